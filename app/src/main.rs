fn main() {
    whfb_app::start();
}
