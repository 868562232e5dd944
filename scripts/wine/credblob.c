/* What the Credential Manager under Wine keeps (scripts/test-wine.sh runs it): a generic
 * credential of exactly CRED_MAX_CREDENTIAL_BLOB_SIZE (2,560) bytes, every byte value,
 * written with CredWriteW must read back identical with CredReadW (saml-login keeps
 * secret parts of up to 2,560 bytes, src/storage/secret_parts.rs); exit status 1 if not.
 * It then says whether one byte more is refused, as Windows documents (Windows answers
 * ERROR_INVALID_PARAMETER; windows-native-keyring-store refuses it before asking). */
#include <windows.h>
#include <wincred.h>
#include <stdio.h>

/* Windows' SDK defines CRED_MAX_CREDENTIAL_BLOB_SIZE as 5 * 512; mingw-w64's wincred.h
 * (zig's) still says 512, the value before Windows Vista. */
#define BLOB_MAX 2560

static DWORD write_blob(LPWSTR target, DWORD size) {
    static BYTE blob[BLOB_MAX + 1];
    CREDENTIALW c = {0};
    for (DWORD i = 0; i < sizeof blob; i++) blob[i] = (BYTE)(i * 7 + 3);
    c.Type = CRED_TYPE_GENERIC;
    c.TargetName = target;
    c.CredentialBlobSize = size;
    c.CredentialBlob = blob;
    c.Persist = CRED_PERSIST_ENTERPRISE;
    c.UserName = L"saml-login-probe";
    return CredWriteW(&c, 0) ? 0 : GetLastError();
}

int main(void) {
    WCHAR exact[] = L"saml-login-probe/exact", over[] = L"saml-login-probe/over";
    PCREDENTIALW read = NULL;
    DWORD e = write_blob(exact, BLOB_MAX);
    if (e) { printf("CredWriteW of 2560 bytes failed: error %lu\n", e); return 1; }
    if (!CredReadW(exact, CRED_TYPE_GENERIC, 0, &read)) {
        printf("CredReadW failed: error %lu\n", GetLastError()); return 1;
    }
    int same = read->CredentialBlobSize == BLOB_MAX;
    for (DWORD i = 0; same && i < read->CredentialBlobSize; i++)
        same = read->CredentialBlob[i] == (BYTE)(i * 7 + 3);
    printf("2560 bytes: written, read back %s (%lu bytes)\n", same ? "identical" : "DIFFERENT",
           read->CredentialBlobSize);
    CredFree(read);
    CredDeleteW(exact, CRED_TYPE_GENERIC, 0);
    e = write_blob(over, BLOB_MAX + 1);
    if (e) printf("2561 bytes: refused, error %lu (Windows documents ERROR_INVALID_PARAMETER, 87)\n", e);
    else { printf("2561 bytes: accepted (Windows refuses it)\n"); CredDeleteW(over, CRED_TYPE_GENERIC, 0); }
    return same ? 0 : 1;
}
