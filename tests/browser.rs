//! The HTML catalog in a real browser: Debian's Chromium, headless, loads `hier docs` output
//! from `file://` (no network), shows a picture that is not blank, opens an image's page when
//! a node of the picture is clicked, filters the list as the search is typed, and fits a
//! narrow window. `scripts/tools-up` installs Chromium; these tests fail without it.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use common::Repo;
use common::site::wide_catalog;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

/// Flags that keep Chromium from reaching for the network it does not have.
const QUIET: [&str; 7] = [
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
];

fn browser(width: u32, height: u32) -> Browser {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "these tests need Chromium: run scripts/tools-up first"
    );
    let options = LaunchOptions::default_builder()
        .path(Some(chromium.to_path_buf()))
        .sandbox(false)
        .window_size(Some((width, height)))
        .args(QUIET.iter().map(OsStr::new).collect())
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Browser::new(options).unwrap()
}

/// The catalog of `repo`, written by `hier docs`; the URL of its index.
fn site(repo: &Repo) -> String {
    let run = repo.hier_offline(&["docs", "--out", "site", "--no-engine"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    format!("file://{}/site/index.html", repo.path().display())
}

fn open(browser: &Browser, url: &str) -> std::sync::Arc<Tab> {
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab
}

/// A tab as a phone shows pages: 390 CSS pixels wide (a headless window cannot be made that
/// narrow, so the device is emulated).
fn open_narrow(browser: &Browser, url: &str) -> std::sync::Arc<Tab> {
    use headless_chrome::protocol::cdp::Emulation::SetDeviceMetricsOverride;
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    tab.call_method(SetDeviceMetricsOverride {
        width: 390,
        height: 844,
        device_scale_factor: 1.0,
        mobile: true,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab
}

fn eval(tab: &Tab, script: &str) -> serde_json::Value {
    tab.evaluate(script, false)
        .unwrap()
        .value
        .unwrap_or_default()
}

/// How many rows of the list are shown.
fn rows_shown(tab: &Tab) -> u64 {
    let n = eval(
        tab,
        "document.querySelectorAll('#images tbody tr:not([hidden])').length",
    );
    n.as_u64().unwrap()
}

fn small_repo() -> Repo {
    wide_catalog(9)
}

#[test]
fn the_index_loads_from_the_file_system_and_its_picture_is_not_blank() {
    let repo = small_repo();
    let browser = browser(1280, 900);
    let tab = open(&browser, &site(&repo));
    assert_eq!(eval(&tab, "document.title"), "wide");
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let pixels = &pixels[..frame.buffer_size()];
    let step = frame.color_type.samples();
    let colours: std::collections::BTreeSet<&[u8]> = pixels.chunks(step).collect();
    let white = pixels
        .chunks(step)
        .filter(|p| p.iter().take(3).all(|c| *c > 245))
        .count();
    let total = pixels.len() / step;
    assert!(colours.len() > 50, "{} colours", colours.len());
    assert!(
        white * 100 / total < 95,
        "{white} of {total} pixels are white"
    );
    // The picture is drawn: a box per image, with its name.
    let boxes = eval(
        &tab,
        "document.querySelectorAll('svg.hierarchy .node rect').length",
    );
    assert_eq!(boxes, 9);
    let width = eval(
        &tab,
        "document.querySelector('svg.hierarchy').getBoundingClientRect().width",
    );
    assert!(width.as_f64().unwrap() > 200.0, "{width}");
}

#[test]
fn clicking_a_node_of_the_picture_opens_that_images_page() {
    let repo = small_repo();
    let browser = browser(1280, 900);
    let tab = open(&browser, &site(&repo));
    tab.wait_for_element("svg.hierarchy a.node[data-name='combo-1']")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("h1").unwrap();
    assert!(
        tab.get_url().ends_with("/site/images/combo-1.html"),
        "{}",
        tab.get_url()
    );
    let heading = tab
        .wait_for_element("h1")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(heading.starts_with("combo-1 2.0.1"), "{heading}");
    // Its chain leads back to the index's images.
    tab.wait_for_element("#place a[href='base.html']")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("h1").unwrap();
    assert!(
        tab.get_url().ends_with("/site/images/base.html"),
        "{}",
        tab.get_url()
    );
}

#[test]
fn typing_in_the_search_filters_the_list_and_dims_the_picture() {
    let repo = small_repo();
    let browser = browser(1280, 900);
    let tab = open(&browser, &site(&repo));
    assert_eq!(rows_shown(&tab), 9);
    tab.wait_for_element("#search")
        .unwrap()
        .type_into("kind:runtime")
        .unwrap();
    assert_eq!(rows_shown(&tab), 2);
    assert_eq!(
        eval(&tab, "document.getElementById('shown').textContent"),
        "2 of 9 images"
    );
    let dimmed = eval(
        &tab,
        "document.querySelectorAll('svg.hierarchy .node.dim').length",
    );
    assert_eq!(dimmed, 7);
    // Every word must match: a provides of runtime-1 only.
    tab.type_str(" lang1").unwrap();
    assert_eq!(rows_shown(&tab), 1);
    let shown = eval(
        &tab,
        "document.querySelector('#images tbody tr:not([hidden])').dataset.name",
    );
    assert_eq!(shown, "runtime-1");
    // An owner, then nothing.
    eval(
        &tab,
        "const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input'))",
    );
    tab.wait_for_element("#search")
        .unwrap()
        .type_into("owner:shop")
        .unwrap();
    assert_eq!(rows_shown(&tab), 4);
    tab.type_str("zzz").unwrap();
    assert_eq!(rows_shown(&tab), 0);
    assert_eq!(eval(&tab, "document.getElementById('none').hidden"), false);
}

#[test]
fn the_pages_fit_a_narrow_window() {
    let repo = small_repo();
    let browser = browser(1280, 900);
    let index = site(&repo);
    for url in [
        index.clone(),
        index.replace("index.html", "images/runtime-0.html"),
    ] {
        let tab = open_narrow(&browser, &url);
        let viewport = eval(&tab, "window.innerWidth").as_f64().unwrap();
        assert!(viewport < 500.0, "{viewport}");
        // Nothing makes the page itself scroll sideways (the picture scrolls in its own box).
        let page = eval(&tab, "document.documentElement.scrollWidth")
            .as_f64()
            .unwrap();
        assert!(
            page <= viewport,
            "{url}: {page} wide in a {viewport} window"
        );
    }
    // The list becomes one card per image: its header row is hidden.
    let tab = open_narrow(&browser, &index);
    let header = eval(
        &tab,
        "getComputedStyle(document.querySelector('#images thead')).display",
    );
    assert_eq!(header, "none");
}

#[test]
fn sixty_images_a_deep_node_opens_its_page_and_the_search_filters() {
    let repo = wide_catalog(60);
    let browser = browser(1280, 900);
    let tab = open(&browser, &site(&repo));
    assert_eq!(rows_shown(&tab), 60);
    // The picture is wider than the window; it opens on the base, in the middle of its box.
    let centre = eval(
        &tab,
        "(() => { const f = document.querySelector('.picture').getBoundingClientRect(); \
         const b = document.querySelector('.node[data-name=base] rect').getBoundingClientRect(); \
         return Math.abs((b.left + b.width / 2) - (f.left + f.width / 2)); })()",
    );
    assert!(
        centre.as_f64().unwrap() < 20.0,
        "the base is {centre} px off the middle"
    );
    // "Fit the window" shows it whole; "Larger" zooms back in.
    let width = |tab: &Tab| {
        let w = eval(
            tab,
            "document.querySelector('svg.hierarchy').getBoundingClientRect().width",
        );
        w.as_f64().unwrap()
    };
    let natural = width(&tab);
    let frame = eval(&tab, "document.querySelector('.picture').clientWidth")
        .as_f64()
        .unwrap();
    assert!(natural > 2.0 * frame, "{natural} in {frame}");
    tab.wait_for_element("button[data-zoom=fit]")
        .unwrap()
        .click()
        .unwrap();
    assert!(width(&tab) <= frame, "{} in {frame}", width(&tab));
    tab.wait_for_element("button[data-zoom=in]")
        .unwrap()
        .click()
        .unwrap();
    assert!(width(&tab) > frame * 1.4, "{} in {frame}", width(&tab));
    tab.wait_for_element("svg.hierarchy a.node[data-name='app-30']")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("h1").unwrap();
    assert!(
        tab.get_url().ends_with("/site/images/app-30.html"),
        "{}",
        tab.get_url()
    );
    let tab = open(&browser, &site(&repo));
    tab.wait_for_element("#search")
        .unwrap()
        .type_into("combo")
        .unwrap();
    assert_eq!(rows_shown(&tab), 14);
}
