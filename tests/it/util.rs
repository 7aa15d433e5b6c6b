//! A small harness in the spirit of ripgrep's `TestCommand`: a temp dir, files in it, the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Dir {
    pub root: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir { root: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Runs `themata` with `args` in this folder.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_themata"))
            .args(args)
            .current_dir(self.root.path())
            .output()
            .expect("run themata");
        Run { output }
    }

    /// Names of the files in the folder, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts success and returns standard output.
    pub fn ok(&self) -> String {
        assert_eq!(self.code(), 0, "expected success; stderr:\n{}", self.stderr());
        self.stdout()
    }

    /// Asserts exit code 2 with every fragment in the message and nothing on standard output.
    pub fn fails_with(&self, fragments: &[&str]) {
        let err = self.stderr();
        assert_eq!(self.code(), 2, "expected exit code 2; stderr:\n{err}");
        assert!(self.output.stdout.is_empty(), "expected no output, got:\n{}", self.stdout());
        assert!(!err.contains("panicked"), "a panic escaped:\n{err}");
        for fragment in fragments {
            assert!(err.contains(fragment), "expected {fragment:?} in:\n{err}");
        }
    }
}

#[allow(dead_code)]
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A quick `themata suggest` (k given, one stability run, no leave-one-study-out, 30 LSA dimensions) of
/// `input` into `out`, plus `extra` options; returns its summary.
#[allow(dead_code)]
pub fn quick_suggest(dir: &Dir, input: &Path, k: &str, out: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "suggest",
        input.to_str().unwrap(),
        "--k",
        k,
        "--stability-runs",
        "1",
        "--no-leave-one-study-out",
        "--lsa-dims",
        "30",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    dir.run(&args).ok()
}
