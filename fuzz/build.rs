//! Lists `supergraphs/*.graphql` for the `operation` target, sorted by
//! name (so a corpus input picks the same supergraph on every machine).

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("supergraphs");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/supergraphs")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .collect();
    files.sort();
    let mut out = String::from("[\n");
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("supergraphs.rs");
    std::fs::write(dest, out).unwrap();
}
