//! The floor for `scripts/bench-browsers.sh`: a bare wry window that loads one page
//! and exits when it has loaded. `cargo run --release --example floor -- URL`.

use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;
use wry::{PageLoadEvent, WebViewBuilder};

fn main() {
    let url = std::env::args().nth(1).expect("usage: floor URL");
    let mut event_loop = EventLoopBuilder::<()>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    let window = WindowBuilder::new()
        .with_title("floor")
        .build(&event_loop)
        .expect("a window");
    let builder = WebViewBuilder::new()
        .with_url(&url)
        .with_on_page_load_handler(move |event, _| {
            if matches!(event, PageLoadEvent::Finished) {
                let _ = proxy.send_event(());
            }
        });
    #[cfg(target_os = "linux")]
    let webview = {
        use tao::platform::unix::WindowExtUnix;
        use wry::WebViewBuilderExtUnix;
        builder
            .build_gtk(window.default_vbox().expect("a GTK box"))
            .expect("a webview")
    };
    #[cfg(not(target_os = "linux"))]
    let webview = builder.build(&window).expect("a webview");
    let mut webview = Some(webview);
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        if let Event::UserEvent(()) = event {
            webview.take();
            *control_flow = ControlFlow::Exit;
        }
    });
}
