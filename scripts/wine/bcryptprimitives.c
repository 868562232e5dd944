/* A stand-in for Windows' bcryptprimitives.dll, for Wine 8.0 only (scripts/test-wine.sh
 * copies it into the test prefix's system32). Rust's standard library (1.78 and later)
 * draws its random numbers from ProcessPrng in bcryptprimitives.dll, which Windows 10
 * and later have and Wine 8.0 lacks: without it every Rust program stops at load time
 * (status c0000135). ProcessPrng here asks advapi32's RtlGenRandom (SystemFunction036),
 * which Wine has. Never shipped: a real Windows has the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
