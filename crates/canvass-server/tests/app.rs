//! The two routers driven in-process on a fresh SQLite store: health, security headers, the
//! admin API's authentication, errors and limits, the OpenAPI document's completeness, the
//! public pages, and logs that never carry request bodies.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_server::{admin_app, openapi_document, public_app};
use support::{PASSWORD, authorised, get, send, test_node, with_token};

#[tokio::test]
async fn both_listeners_answer_health_checks_with_security_headers() {
    let test = test_node("", false).await;
    for app in [public_app(test.node.clone()), admin_app(test.node.clone())] {
        let health = send(&app, get("/healthz")).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.json()["status"], "ok");
        let ready = send(&app, get("/readyz")).await;
        assert_eq!(ready.json()["database"], "sqlite");
        let csp = health.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(health.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert!(health.headers.get("x-request-id").is_some());
        assert!(health.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS over plain HTTP");
    }
}

#[tokio::test]
async fn strict_transport_security_is_sent_when_tls_or_a_tls_proxy_is_in_front() {
    let proxied = test_node("[public]\nlisten = \"0.0.0.0:80\"\nbehind_proxy = \"10.0.0.2\"", false).await;
    let reply = send(&public_app(proxied.node.clone()), get("/healthz")).await;
    assert!(reply.headers.get(header::STRICT_TRANSPORT_SECURITY).unwrap().to_str().unwrap().contains("max-age="));
}

#[tokio::test]
async fn the_admin_api_needs_a_valid_token_and_does_not_say_which_part_was_wrong() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let anonymous = send(&app, get("/api/jurisdictions")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers.get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap().starts_with("Bearer"));
    // The real token's id with a wrong secret, an id that names no token, and noise.
    let id = support::token_id(&test.admin_token);
    let wrong_secret = with_token(&format!("canvass.{id}.not-the-secret"), Method::GET, "/api/jurisdictions", None);
    let unknown_id = with_token("canvass.0000000000000000.not-the-secret", Method::GET, "/api/jurisdictions", None);
    let garbage = with_token("!!!", Method::GET, "/api/jurisdictions", None);
    let first = send(&app, wrong_secret).await;
    let second = send(&app, unknown_id).await;
    let third = send(&app, garbage).await;
    assert_eq!(
        (first.status, second.status, third.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(first.body, second.body);
    assert_eq!(first.body, third.body);
    assert_eq!(first.error_code(), "unauthorized");
    // HTTP Basic is not a way in any more: the header is ignored, the caller is anonymous.
    let basic = Request::get("/api/jurisdictions")
        .header(header::AUTHORIZATION, format!("Basic {}", base64_of(&format!("admin:{PASSWORD}"))))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, basic).await.status, StatusCode::UNAUTHORIZED);
    let allowed = send(&app, authorised(Method::GET, "/api/jurisdictions", None)).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.body, "[]");
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn jurisdictions_and_precincts_through_the_api_with_stable_error_codes() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let post = |path: &str, body: &str| authorised(Method::POST, path, Some(body));
    let state = r#"{"id":"ocd-division/country:us/state:nc","name":"North Carolina","kind":"state"}"#;
    let created = send(&app, post("/api/jurisdictions", state)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["id"], "ocd-division/country:us/state:nc");

    let cases: [(&str, &str, StatusCode, &str); 6] = [
        ("/api/jurisdictions", state, StatusCode::CONFLICT, "already_exists"),
        (
            "/api/jurisdictions",
            r#"{"id":"wake","name":"Wake","kind":"county"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/jurisdictions",
            r#"{"id":"wake","name":"Wake","kind":"county","parent":"nowhere"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
        ),
        (
            "/api/jurisdictions",
            r#"{"id":"Bad Id","name":"Wake","kind":"state"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/api/jurisdictions",
            r#"{"id":"wake","name":"Wake","kind":"province"}"#,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "/api/precincts",
            r#"{"id":"p1","jurisdiction":"nowhere","name":"P1"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
        ),
    ];
    for (path, body, status, code) in cases {
        let reply = send(&app, post(path, body)).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (status, code), "{body}: {}", reply.body);
    }
    let truncated = send(&app, post("/api/jurisdictions", "{\"id\":")).await;
    assert_eq!(truncated.error_code(), "malformed_json");
    let form = Request::post("/api/jurisdictions")
        .header(header::AUTHORIZATION, support::bearer(&test.admin_token))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("id=x"))
        .unwrap();
    assert_eq!(send(&app, form).await.error_code(), "unsupported_media_type");

    let county = r#"{"id":"ocd-division/country:us/state:nc/county:wake","name":"Wake County","kind":"county","parent":"ocd-division/country:us/state:nc"}"#;
    assert_eq!(send(&app, post("/api/jurisdictions", county)).await.status, StatusCode::CREATED);
    let precinct =
        r#"{"id":"wake-01-01","jurisdiction":"ocd-division/country:us/state:nc/county:wake","name":"01-01"}"#;
    assert_eq!(send(&app, post("/api/precincts", precinct)).await.status, StatusCode::CREATED);

    let listed = send(&app, authorised(Method::GET, "/api/jurisdictions", None)).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "refused requests changed nothing");
    let one = send(
        &app,
        authorised(Method::GET, "/api/jurisdictions/ocd-division%2Fcountry:us%2Fstate:nc%2Fcounty:wake", None),
    )
    .await;
    assert_eq!(one.json()["parent"], "ocd-division/country:us/state:nc");
    let missing = send(&app, authorised(Method::GET, "/api/jurisdictions/nowhere", None)).await;
    assert_eq!((missing.status, missing.error_code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let filtered = send(
        &app,
        authorised(Method::GET, "/api/precincts?jurisdiction=ocd-division%2Fcountry:us%2Fstate:nc%2Fcounty:wake", None),
    )
    .await;
    assert_eq!(filtered.json()[0]["id"], "wake-01-01");
    let none =
        send(&app, authorised(Method::GET, "/api/precincts?jurisdiction=ocd-division%2Fcountry:us%2Fstate:nc", None))
            .await;
    assert_eq!(none.body, "[]");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read() {
    let test = test_node("[limits]\nmax_body_bytes = 1024", false).await;
    let app = admin_app(test.node.clone());
    let big = format!(r#"{{"id":"nc","name":"{}","kind":"state"}}"#, "x".repeat(4096));
    let reply = send(&app, authorised(Method::POST, "/api/jurisdictions", Some(&big))).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    assert_eq!(send(&app, authorised(Method::GET, "/api/jurisdictions", None)).await.body, "[]");
}

#[tokio::test]
async fn metrics_are_on_the_admin_listener_only() {
    let test = test_node("", false).await;
    let admin = admin_app(test.node.clone());
    let public = public_app(test.node.clone());
    send(&public, get("/healthz")).await;
    let anonymous = send(&admin, get("/metrics")).await;
    assert!(anonymous.is_redirect_to_login(), "metrics need a role that may search the ledger: {}", anonymous.status);
    let metrics = send(&admin, authorised(Method::GET, "/metrics", None)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .body
            .contains(r#"canvass_http_requests_total{listener="public",method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        metrics.body
    );
    assert_eq!(send(&public, get("/metrics")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_describes_every_admin_route_and_each_one_exists() {
    let test = test_node("", true).await;
    let app = admin_app(test.node.clone());
    let public = public_app(test.node.clone());
    let served = send(&app, get("/api/openapi.json")).await.json();
    assert_eq!(served["openapi"].as_str().map(|version| version.starts_with("3.")), Some(true));
    let document = serde_json::to_value(openapi_document()).unwrap();
    assert_eq!(served, document);
    let paths = document["paths"].as_object().unwrap();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort();
    assert_eq!(
        documented,
        [
            "/api/audit",
            "/api/break-glass",
            "/api/elections",
            "/api/elections/{id}",
            "/api/elections/{id}/certify",
            "/api/elections/{id}/definition",
            "/api/elections/{id}/results",
            "/api/incidents",
            "/api/incidents/{id}",
            "/api/incidents/{id}/affected",
            "/api/incidents/{id}/updates",
            "/api/jurisdictions",
            "/api/jurisdictions/{id}",
            "/api/jurisdictions/{id}/duplicates",
            "/api/jurisdictions/{id}/duplicates/dismiss",
            "/api/jurisdictions/{id}/duplicates/merge",
            "/api/jurisdictions/{id}/elections",
            "/api/jurisdictions/{id}/seal",
            "/api/jurisdictions/{id}/unseal",
            "/api/jurisdictions/{id}/voters",
            "/api/jurisdictions/{id}/voters/{voter}/ballots",
            "/api/jurisdictions/{id}/voters/{voter}/status",
            "/api/jurisdictions/{id}/voters/{voter}/vote-history",
            "/api/jurisdictions/{id}/voters/{voter}/vri",
            "/api/keys",
            "/api/node",
            "/api/precincts",
            "/api/requests",
            "/api/requests/{id}/approve",
            "/api/requests/{id}/reject",
            "/api/requests/{id}/run",
            "/api/tokens",
            "/api/tokens/{id}/revoke",
            "/api/users",
            "/api/users/{username}/reinstate",
            "/api/users/{username}/reset-mfa",
            "/api/users/{username}/suspend",
            "/api/voters",
            "/healthz",
            "/log/refusal",
            "/readyz"
        ]
    );
    // Placeholders get values naming nothing that matters: a handler's own 404 ("no request
    // ...") is fine here, the router's fallback ("no such route") is not.
    let sample_ids =
        [("{id}", "ocd-division%2Fcountry:us%2Fstate:zz"), ("{username}", "nobody"), ("{voter}", "NOBODY1")];
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let mut concrete = path.clone();
            for (placeholder, value) in sample_ids {
                concrete = concrete.replace(placeholder, value);
            }
            if path == "/api/elections/{id}" {
                concrete = path.replace("{id}", "zz-general-2027");
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method == Method::POST).then_some("{}");
            // Witnesses post to the log on the public listener; it is described here too.
            let listener = if path.starts_with("/log/") { &public } else { &app };
            let reply = send(listener, authorised(method.clone(), &concrete, body)).await;
            assert!(!reply.body.contains("no such route"), "{method} {concrete} is documented but not routed");
            // Replacing or deleting an incident is documented as refused: its handler answers
            // 405 with its own code; the router's 405 would have no body.
            if path == "/api/incidents/{id}" && (method == Method::PUT || method == Method::DELETE) {
                assert_eq!(reply.error_code(), "method_not_allowed", "{method} {concrete}");
                continue;
            }
            assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {concrete}");
        }
    }
    let election = send(&app, authorised(Method::GET, "/api/elections/zz-general-2027", None)).await.json();
    assert_eq!(election["contests"][0]["name"], "Governor");
}

#[tokio::test]
async fn the_public_pages_show_jurisdictions_elections_and_registration_bars() {
    let test = test_node("", true).await;
    let app = public_app(test.node.clone());
    let home = send(&app, get("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    for expected in [
        "State of Examplia (demo)",
        "Alder County",
        "Birch County",
        "Cedar County",
        "2027 General Election",
        "Demo node",
        "<svg",
    ] {
        assert!(home.body.contains(expected), "home page lacks {expected}");
    }
    assert!(!home.body.contains("style="), "inline styles would break the CSP");
    let county = send(&app, get("/jurisdictions/ocd-division%2Fcountry:us%2Fstate:zz%2Fcounty:alder")).await;
    assert_eq!(county.status, StatusCode::OK);
    assert!(county.body.contains("01 Riverside") && county.body.contains("Registered voters by precinct"));
    assert!(county.body.contains("2027 General Election"), "a county's voters vote in the state's election");
    let election = send(&app, get("/elections/zz-general-2027")).await;
    assert!(election.body.contains("Governor") && election.body.contains("vote for up to 2"));
    let missing = send(&app, get("/jurisdictions/nowhere")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html"));
    assert_eq!(send(&app, get("/no/such/page")).await.status, StatusCode::NOT_FOUND);
    let css = send(&app, get("/assets/canvass.css")).await;
    assert!(css.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/css"));
    // The admin API is not on the public listener.
    assert_eq!(send(&app, authorised(Method::GET, "/api/jurisdictions", None)).await.status, StatusCode::NOT_FOUND);
}
