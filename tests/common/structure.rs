//! Structure tests' results, as hier logs them and as the reference tool
//! (container-structure-test, installed by `scripts/tools-up`) reports them, to compare.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A test's result: its name, whether it passed, how many reasons it failed for.
pub type Results = BTreeMap<String, (bool, usize)>;

/// The results hier logged: `hier: passed: <name>` or `hier: FAILED: <name>` followed by a
/// line `  <name>: <reason>` for each reason.
pub fn hier_results(log: &str) -> Results {
    let mut results = Results::new();
    let mut current: Option<String> = None;
    for line in log.lines() {
        if let Some(name) = line.strip_prefix("hier: passed: ") {
            results.insert(name.to_string(), (true, 0));
            current = None;
        } else if let Some(name) = line.strip_prefix("hier: FAILED: ") {
            results.insert(name.to_string(), (false, 0));
            current = Some(name.to_string());
        } else if let Some(name) = &current
            && line.starts_with(&format!("  {name}: "))
        {
            results.get_mut(name).unwrap().1 += 1;
        }
    }
    results
}

/// The results of container-structure-test on the same image and file.
pub fn reference_results(image: &str, spec: &Path) -> Results {
    let out = Command::new("container-structure-test")
        .args(["test", "--image", image, "--output", "json", "--config"])
        .arg(spec)
        .output()
        .expect("container-structure-test is installed by scripts/tools-up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no result from container-structure-test: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let summary: Value = serde_json::from_str(line).unwrap();
    summary["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let errors = r["Errors"].as_array().map_or(0, Vec::len);
            let name = r["Name"].as_str().unwrap().to_string();
            (name, (r["Pass"].as_bool().unwrap(), errors))
        })
        .collect()
}
