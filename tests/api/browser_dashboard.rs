//! The staff dashboard in a real browser (headless Chromium over WebDriver): over the demo
//! data, its three charts are SVG drawn by the server, each beside its table, with no script
//! on the page; audited with axe-core at phone width (390 px) and read at desktop width, and
//! its downloads answer CSV and XLSX.

use std::net::TcpListener;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::browser::{
    audit, browser_or_refuse, click, fill, open_browser, snap, start_driver, visit, wait_text,
};
use crate::common::{Backend, TestApp};
use crate::on_both;

async fn serve(backend: Backend) -> (TestApp, String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = TestApp::start_with(backend, &[("PUBLIC_BASE_URL", &base)]).await;
    let state = app.state.clone();
    let server = actix_web::HttpServer::new(move || idpc_hub::build_app(state.clone()))
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (app, base, handle)
}

/// A desktop-sized browser (1280 × 900), without the phone emulation of `open_browser`.
async fn open_desktop(chromium: &str, port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session in headless Chromium")
}

async fn sign_in_as(c: &Client, email: &str, password: &str) {
    fill(c, "#sign_in-email", email).await;
    fill(c, "#sign_in-password", password).await;
    click(c, "form[action='/sign-in'] button[type=submit]").await;
    wait_text(c, "header .who", "Signed in as").await;
}

/// What the dashboard shows: (SVG charts with role img, tables, scripts, page width).
async fn shape(c: &Client) -> (i64, i64, i64, i64) {
    let v = c
        .execute(
            "return [document.querySelectorAll('figure svg[role=img][aria-label]').length,
                     document.querySelectorAll('.chart table').length,
                     document.querySelectorAll('script').length,
                     document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let n = |i: usize| v[i].as_i64().unwrap();
    (n(0), n(1), n(2), n(3))
}

on_both! {
    async fn the_dashboard_draws_its_charts_as_svg_beside_their_tables_without_script_at_phone_and_desktop_width(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        idpc_hub::demo::seed(&app.state).await.unwrap();
        let admin = &idpc_hub::demo::DEMO_USERS[0];
        let driver = start_driver(&driver);

        // At a phone's width: audited, and nothing wider than the screen.
        let c = open_browser(&chromium, &driver).await;
        c.goto(&format!("{base}/dashboard")).await.unwrap();
        sign_in_as(&c, admin.email, admin.password).await;
        wait_text(&c, "h1", "Portfolio dashboard").await;
        audit(&c).await;
        snap(&c, "dashboard-phone").await;
        let (svgs, tables, scripts, _) = shape(&c).await;
        assert_eq!((svgs, tables, scripts), (3, 3, 0), "three SVG charts, three tables, no script");
        wait_text(&c, "#main", "decriminalisation justice reform").await;
        let source = c.source().await.unwrap();
        assert!(!source.contains("<script"), "no script on the page");
        // The header's link leads here; the download links answer files.
        click(&c, "nav a[href='/dashboard']").await;
        wait_text(&c, "h1", "Portfolio dashboard").await;
        visit(&c, &format!("{base}/dashboard")).await;
        let links = c.find_all(Locator::Css("main a[href^='/dashboard/download/']")).await.unwrap();
        assert_eq!(links.len(), 6, "CSV and XLSX of each table");
        c.close().await.unwrap();

        // At a desktop's width: the same charts and tables.
        let d = open_desktop(&chromium, driver.port).await;
        d.goto(&format!("{base}/dashboard")).await.unwrap();
        sign_in_as(&d, admin.email, admin.password).await;
        wait_text(&d, "h1", "Portfolio dashboard").await;
        snap(&d, "dashboard-desktop").await;
        let (svgs, tables, scripts, width) = shape(&d).await;
        assert_eq!((svgs, tables, scripts), (3, 3, 0));
        let window = d.execute("return window.innerWidth;", vec![]).await.unwrap().as_i64().unwrap();
        assert!(window > 1000 && width <= window, "a desktop window ({window} px) shows the page without a sideways scroll ({width} px)");
        d.close().await.unwrap();
        drop(driver);
        server.stop(true).await;
    }
}

on_both! {
    async fn the_dashboard_downloads_answer_csv_and_xlsx_and_members_may_not_open_it(backend) {
        let app = TestApp::start(backend).await;
        idpc_hub::demo::seed(&app.state).await.unwrap();
        let admin = &idpc_hub::demo::DEMO_USERS[0];
        let mut web = crate::common::console::Browser::new(&app);
        web.sign_in(admin.email, admin.password).await;
        let page = web.get("/dashboard").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.text.matches("<svg").count(), 3);
        let csv = web.get("/dashboard/download/priority-area-region.csv").await;
        assert_eq!(csv.status, 200);
        assert!(csv.text.starts_with("priority_area,region,grants,committed,paid,outstanding\n"), "{}", csv.text);
        let xlsx = web.get("/dashboard/download/membership.xlsx").await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.bytes.starts_with(b"PK"));
        assert_eq!(web.get("/dashboard/download/secrets.txt").await.status, 404);

        let member = &idpc_hub::demo::DEMO_USERS[4];
        let mut other = crate::common::console::Browser::new(&app);
        other.sign_in(member.email, member.password).await;
        assert_eq!(other.get("/dashboard").await.status, 403);
    }
}
