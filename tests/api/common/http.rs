//! A small request builder over the in-process service, returning what a client would see.

use actix_http::Request;
use actix_service::{Service, ServiceExt, boxed};
use actix_web::App;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use serde_json::Value;

/// The app as a boxed service.
pub type Svc = boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// Initialises an app into a callable service.
pub async fn init<T, B>(app: App<T>) -> Svc
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let svc = actix_web::test::init_service(app).await;
    boxed::service(svc.map(|res: ServiceResponse<B>| res.map_into_boxed_body()))
}

/// What came back.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body parsed as JSON (Null when not JSON).
    pub body: Value,
    /// Raw body text.
    pub text: String,
    /// The body's bytes (downloads that are not text: PDF, XLSX).
    pub bytes: Vec<u8>,
}

impl Resp {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts the status, printing the body on mismatch.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json answer with this status and a request id.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Self {
        let s = self.expect(status);
        assert_eq!(
            s.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            s.text
        );
        assert_eq!(s.body["status"], status, "{}", s.text);
        let rid = s.header("x-request-id").expect("x-request-id header");
        assert_eq!(
            s.body["request_id"],
            rid.as_str(),
            "problem carries the request id"
        );
        s
    }

    /// The `field` of the first validation error.
    pub fn first_error_field(&self) -> String {
        self.body["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends one request and collects the response.
pub async fn send(svc: &Svc, req: TestRequest) -> Resp {
    let res = match svc.call(req.to_request()).await {
        Ok(res) => res.into_parts().1,
        // As the HTTP dispatcher does with an error that escaped the app.
        Err(e) => e.error_response(),
    };
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
        bytes: bytes.to_vec(),
    }
}

impl super::TestApp {
    /// Starts a request.
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            svc: &self.svc,
            tr: TestRequest::default().method(method).uri(path),
        }
    }
    /// GET.
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    /// POST.
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    /// PATCH.
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }
    /// DELETE.
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }
}

/// A request being built.
pub struct Req<'a> {
    svc: &'a Svc,
    tr: TestRequest,
}

impl Req<'_> {
    /// Bearer token.
    pub fn bearer(mut self, token: &str) -> Self {
        self.tr = self
            .tr
            .insert_header(("authorization", format!("Bearer {token}")));
        self
    }
    /// Optional bearer token.
    pub fn auth(self, token: Option<&str>) -> Self {
        match token {
            Some(t) => self.bearer(t),
            None => self,
        }
    }
    /// Sends from the TCP peer `ip` (otherwise the app sees no peer: `unknown`).
    pub fn peer_ip(mut self, ip: &str) -> Self {
        let ip: std::net::IpAddr = ip.parse().expect("an IP address");
        self.tr = self.tr.peer_addr(std::net::SocketAddr::new(ip, 40000));
        self
    }
    /// A header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.tr = self.tr.insert_header((name.to_string(), value.to_string()));
        self
    }
    /// A JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.tr = self
            .tr
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string());
        self
    }
    /// A raw body.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let bytes: Vec<u8> = body.into();
        self.tr = self
            .tr
            .insert_header(("content-type", content_type.to_string()))
            .set_payload(bytes);
        self
    }
    /// Sends it.
    pub async fn send(self) -> Resp {
        send(self.svc, self.tr).await
    }
}
