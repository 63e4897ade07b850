// The run allocates many small strings (catalog, lock, renderings): a faster allocator pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(hier::run::main());
}
