//! QR codes as inline SVG, for the page where staff enrol an authenticator app by scanning the
//! `otpauth://` URI of their new TOTP secret.

use qrcode::{EcLevel, QrCode, render::svg};

use crate::ServerError;

/// The side of the drawing in pixels: big enough for phone cameras at arm's length. Modules are
/// whole pixels, for crisp edges, so the drawing is the nearest multiple of the module count.
const SIDE_PIXELS: u32 = 220;
/// The quiet zone the renderer draws around a (non-micro) QR code, in modules on each side.
const QUIET_ZONE_MODULES: u32 = 4;

/// `text` as a QR code (error correction level M, quiet zone included) drawn in black on white,
/// as an `<svg>` element to embed in HTML (no XML prolog).
///
/// `text` is often a secret (a TOTP provisioning URI), so errors never repeat it.
pub fn qr_svg(text: &str) -> Result<String, ServerError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|error| ServerError::Internal(format!("cannot draw a QR code of {} bytes: {error}", text.len())))?;
    let modules = u32::try_from(code.width()).unwrap_or(u32::MAX).saturating_add(2 * QUIET_ZONE_MODULES);
    let module_pixels = ((SIDE_PIXELS + modules / 2) / modules).max(1);
    let drawing = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .module_dimensions(module_pixels, module_pixels)
        .build();
    // The renderer writes a standalone XML document; inside HTML only the element is wanted.
    let start = drawing
        .find("<svg")
        .ok_or_else(|| ServerError::Internal("the QR code renderer produced no <svg> element".to_owned()))?;
    Ok(drawing[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width(drawing: &str) -> u32 {
        drawing
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|value| value.parse().ok())
            .unwrap()
    }

    #[test]
    fn a_provisioning_uri_becomes_an_inline_svg_of_about_220_pixels() {
        let uri = "otpauth://totp/Canvass%20Wake:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
                   &issuer=Canvass%20Wake&algorithm=SHA1&digits=6&period=30";
        let drawing = qr_svg(uri).unwrap();
        assert!(drawing.starts_with("<svg"), "{drawing}");
        assert!(!drawing.contains("<?xml"));
        assert!(drawing.contains("<path") || drawing.contains("<rect"));
        assert!(drawing.contains("fill=\"#000000\"") && drawing.contains("fill=\"#ffffff\""));
        assert!(drawing.trim_end().ends_with("</svg>"));
        assert!(drawing.contains("height=\""));
        let side = width(&drawing);
        assert!((195..=245).contains(&side), "side {side}");
        assert!((195..=245).contains(&width(&qr_svg("x").unwrap())), "a version 1 code is about as big");
    }

    #[test]
    fn text_too_long_for_a_qr_code_is_an_internal_error_that_does_not_repeat_it() {
        let text = "s".repeat(8000);
        match qr_svg(&text) {
            Err(ServerError::Internal(message)) => assert!(!message.contains("sss"), "{message}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
    }
}
