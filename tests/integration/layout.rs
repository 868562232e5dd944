//! README's Layout names every module of `src/` in its folder's row (issue 26): a new
//! file that is not listed fails here, so the map of the tree stays true.

use std::path::Path;

use crate::support::repo;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn readme_layout_names_every_module_in_its_folder() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let layout = &readme[readme
        .find("## Layout")
        .expect("README has a Layout section")..];
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 40, "src/ read: {} files", files.len());
    let mut missing = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let folder = rel.parent().unwrap();
        // src/bin/ files are named with their folder in the src/ row.
        let (row_folder, name) = match folder.to_str().unwrap() {
            "" => ("src/".to_owned(), rel.display().to_string()),
            "bin" => ("src/".to_owned(), rel.display().to_string()),
            f => (
                format!("src/{f}/"),
                rel.file_name().unwrap().to_string_lossy().into_owned(),
            ),
        };
        let row = layout
            .lines()
            .find(|l| l.starts_with(&format!("| `{row_folder}` |")));
        if !row.is_some_and(|row| row.contains(&format!("`{name}`"))) {
            missing.push(format!("{} (row `{row_folder}`)", rel.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "README's Layout does not name: {}",
        missing.join(", ")
    );
}
