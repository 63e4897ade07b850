fn main() {
    std::process::exit(hier::run::main());
}
