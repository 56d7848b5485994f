// Gives the shared library its SONAME, as C programs link it: liblvmetad.so.0.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liblvmetad.so.0");
    println!("cargo:rerun-if-changed=build.rs");
}
