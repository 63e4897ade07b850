//! Generates a synthetic hierarchy repository for benchmarks: N images over `depth` levels,
//! templates with partials, a small build context per image, and (with `--lock`) a lock that
//! records every image as built, so `plan --changed` has nothing to do.
//!
//! cargo run --release --example synthetic -- <images> <depth> <folder> [--lock]

use std::fs;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: synthetic <images> <depth> <folder> [--lock]");
        std::process::exit(2);
    }
    let count: usize = args[1].parse().expect("a number of images");
    let depth: usize = args[2].parse().expect("a depth");
    let root = Path::new(&args[3]);
    let lock = args.iter().any(|a| a == "--lock");
    generate(root, count, depth);
    if lock {
        record_lock(root);
    }
}

fn generate(root: &Path, count: usize, depth: usize) {
    fs::create_dir_all(root.join("templates/partials")).unwrap();
    fs::write(
        root.join("templates/partials/install.hbs"),
        "RUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n{{lines packages}} \\\n && rm -rf /var/lib/apt/lists/*\n",
    )
    .unwrap();
    fs::write(
        root.join("templates/partials/env.hbs"),
        "{{#each vars.env}}\nENV {{this}}\n{{/each}}\n",
    )
    .unwrap();
    fs::write(
        root.join("templates/level.Dockerfile.hbs"),
        "FROM {{parent.ref}}\n\n{{> install packages=vars.packages}}\n{{> env}}\nLABEL tier=\"{{image.kind}}\" owner=\"{{default vars.owner \"platform\"}}\"\nCOPY app.conf /etc/{{image.name}}.conf\n",
    )
    .unwrap();
    let kinds: Vec<String> = std::iter::once("\"base\"".to_string())
        .chain((1..depth).map(|level| format!("\"level{level}\"")))
        .collect();
    let mut catalog = format!(
        "[catalog]\nname = \"synthetic\"\nregistry = \"registry.bench/platform\"\nkinds = [{}]\n\n[catalog.vars]\nenv = [\"LANG=C.UTF-8\"]\n\n",
        kinds.join(", ")
    );
    // Images are spread evenly over the levels; each picks a parent on the level above.
    let per_level = count.div_ceil(depth);
    for i in 0..count {
        let level = (i / per_level).min(depth - 1);
        let name = format!("img{i:05}");
        catalog.push_str(&format!(
            "[images.{name}]\nversion = \"1.{level}.{i}\"\ntemplate = \"level.Dockerfile.hbs\"\n"
        ));
        if level == 0 {
            catalog.push_str("from = \"debian:bookworm-slim\"\nkind = \"base\"\n");
        } else {
            let above = (level - 1) * per_level;
            let parent = above + (i * 7919) % per_level.min(count - above);
            catalog.push_str(&format!(
                "parent = \"img{parent:05}@^1\"\nkind = \"level{level}\"\n"
            ));
        }
        catalog.push_str(&format!(
            "provides = [\"tool{i}=1.{level}\"]\nvars = {{ packages = [\"pkg-{i}\", \"common-{level}\", \"curl\"] }}\n\n"
        ));
        let ctx = root.join("images").join(&name);
        fs::create_dir_all(&ctx).unwrap();
        fs::write(
            ctx.join("app.conf"),
            format!("# config of {name}\nvalue = {i}\n"),
        )
        .unwrap();
        fs::write(ctx.join(".dockerignore"), "*.log\n").unwrap();
    }
    fs::write(root.join("catalog.toml"), catalog).unwrap();
}

fn record_lock(root: &Path) {
    let repo = hier::repo::Repository::open(&root.join("catalog.toml"))
        .expect("the generated catalog loads");
    let inputs = repo.inputs().expect("inputs");
    let mut lock = hier::lock::Lock::default();
    let id = |name: &str| hier::hash::digest(name);
    for image in &repo.catalog.images {
        let mut entry = hier::lock::LockEntry {
            inputs: inputs[&image.name].digest.clone(),
            components: inputs[&image.name].components.clone(),
            fingerprint: id(&format!("fp-{}", image.name)),
            image_id: id(image.name.as_str()),
            parent_image_id: image.parent().map(|p| id(p.name.as_str())),
            built_at: "2026-11-23T00:00:00Z".into(),
            tags: hier::tags::all_tags(&image.version, &image.tags, &id(image.name.as_str())),
            ..Default::default()
        };
        // What a real run records for plans to name changes with.
        hier::rebuild::record::record_detail(&mut entry, &inputs[&image.name].detail);
        lock.images.insert(image.name.to_string(), entry);
    }
    lock.write_atomic(&repo.lock_path()).unwrap();
}
