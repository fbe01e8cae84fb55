//! The page.
fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<stochgrad_app::components::App>::new().render();
}
