//! What the user reads. `render`: a failed migration, rustc-style, and the final error, printed
//! once. `views`: one `Serialize` struct per reporting command; its text form and its `--json`
//! form come from the same value, so they cannot disagree.

mod render;
pub mod views;

pub use render::print_error;

/// Prints a view as one JSON document or as its text form.
pub fn emit<V: views::View>(view: &V, json: bool) {
    if json {
        match serde_json::to_string(view) {
            Ok(s) => println!("{s}"),
            Err(e) => tracing::error!("cannot serialise the output: {e}"),
        }
    } else {
        print!("{}", view.text());
    }
}
