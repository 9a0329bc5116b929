//! A real SMTP server in-process (mailin-embedded) that records what it receives.

use std::io;
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server};

/// One received email.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The raw message.
    pub raw: String,
}

impl Received {
    fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.raw.as_bytes()).expect("valid MIME")
    }
    /// A header value, decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }
    /// Subject.
    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }
    /// Message-ID.
    pub fn message_id(&self) -> String {
        self.header("Message-ID").unwrap_or_default()
    }
    /// The envelope recipient (single).
    pub fn recipient(&self) -> String {
        self.to.first().cloned().unwrap_or_default()
    }
    fn part(&self, mime: &str) -> String {
        fn walk(p: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if p.subparts.is_empty() {
                return (p.ctype.mimetype == mime).then(|| p.get_body().unwrap_or_default());
            }
            p.subparts.iter().find_map(|s| walk(s, mime))
        }
        walk(&self.parsed(), mime).unwrap_or_default()
    }
    /// The text/plain body, decoded.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }
    /// The text/html body, decoded.
    pub fn html(&self) -> String {
        self.part("text/html")
    }
    /// The first link in the text body that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(prefix)?;
        Some(text[start..].split_whitespace().next()?.to_string())
    }
    /// The value of `name=` in the first link starting with `prefix`.
    pub fn link_param(&self, prefix: &str, name: &str) -> Option<String> {
        let link = self.link(prefix)?;
        let query = link.split_once('?')?.1;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
    }
}

#[derive(Clone)]
struct Recorder {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        OK
    }
    fn rcpt(&mut self, to: &str) -> Response {
        self.to.push(to.to_string());
        OK
    }
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        OK
    }
    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        let raw = String::from_utf8_lossy(&self.data).to_string();
        self.inbox.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw,
        });
        self.data.clear();
        OK
    }
}

/// A running SMTP sink.
#[derive(Clone)]
pub struct MailSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl MailSink {
    /// Starts a sink on an ephemeral port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP sink");
        Self::serve(listener)
    }

    /// A port with nothing listening on it yet (for "server down" tests).
    pub fn reserve_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Starts a sink on a given port (the server "comes back").
    pub fn start_on(port: u16) -> Self {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => return Self::serve(l),
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot bind SMTP sink on {port}: {e}"),
            }
        }
    }

    fn serve(listener: TcpListener) -> Self {
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(recorder);
            server
                .with_name("sink.test")
                .with_num_threads(4)
                .with_tcp_listener(listener);
            let _ = server.serve();
        });
        Self { port, inbox }
    }

    /// Takes every message received so far.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.inbox.lock().unwrap())
    }

    /// Every message received so far, kept.
    pub fn all(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived (or the timeout passes) and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.all();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
