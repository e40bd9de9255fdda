fn main() {
    whfb_app::worker_entry::start();
}
