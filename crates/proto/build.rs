//! Compiles `proto/` with protox (no system `protoc`) into Rust types, writes the
//! encoded descriptor set for gRPC reflection, and turns the `data_category` /
//! `routing` field options into a table the code reads, so that each payload
//! field's data category is written once, in the proto file.

use std::{env, fmt::Write as _, fs, path::PathBuf};

use prost_reflect::{DescriptorPool, ExtensionDescriptor, Kind, MessageDescriptor, Value};

const PROTO_ROOT: &str = "../../proto";
const FILES: &[&str] = &[
    "referralhub/v1/common.proto",
    "referralhub/v1/referral.proto",
    "referralhub/v1/case_transfer.proto",
    "referralhub/v1/separated_child_alert.proto",
    "referralhub/v1/message.proto",
    "referralhub/v1/message_service.proto",
    "referralhub/v1/directory.proto",
    "referralhub/v1/directory_service.proto",
    "referralhub/v1/consent.proto",
    "referralhub/v1/consent_service.proto",
    "referralhub/v1/audit.proto",
    "referralhub/v1/audit_service.proto",
    "referralhub/v1/diagnostics_service.proto",
    "referralhub/v1/stats_service.proto",
];
/// Messages whose fields carry child data and so need a category on every leaf.
const PAYLOADS: &[&str] =
    &["referralhub.v1.ServiceReferral", "referralhub.v1.CaseTransfer", "referralhub.v1.SeparatedChildAlert"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let out = PathBuf::from(env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(FILES)?;
    fs::write(out.join("descriptor.bin"), compiler.encode_file_descriptor_set())?;
    fs::write(out.join("payload_fields.rs"), payload_field_table(&compiler.descriptor_pool())?)?;

    let services = env::var_os("CARGO_FEATURE_SERVICES").is_some();
    tonic_prost_build::configure()
        .build_server(services)
        .build_client(services)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

fn payload_field_table(pool: &DescriptorPool) -> Result<String, String> {
    let tags = Tags {
        category: extension(pool, "referralhub.v1.data_category")?,
        routing: extension(pool, "referralhub.v1.routing")?,
    };
    let mut rows = String::new();
    let mut errors = Vec::new();
    for payload in PAYLOADS {
        let message = pool.get_message_by_name(payload).ok_or(format!("payload {payload} not found"))?;
        tags.walk(payload, &message, "", &mut rows, &mut errors);
    }
    if !errors.is_empty() {
        return Err(format!("payload fields need exactly one of `data_category` or `routing`:\n{}", errors.join("\n")));
    }
    Ok(format!(
        "/// Every leaf field of every payload, with its data category, or `None` for a\n\
         /// routing field. Generated from the proto/ field options by build.rs.\n\
         pub const PAYLOAD_FIELDS: &[PayloadField] = &[\n{rows}];\n"
    ))
}

fn extension(pool: &DescriptorPool, name: &str) -> Result<ExtensionDescriptor, String> {
    pool.get_extension_by_name(name).ok_or(format!("extension {name} not found"))
}

/// The two field options that classify payload fields.
struct Tags {
    category: ExtensionDescriptor,
    routing: ExtensionDescriptor,
}

impl Tags {
    fn walk(
        &self,
        payload: &str,
        message: &MessageDescriptor,
        prefix: &str,
        rows: &mut String,
        errors: &mut Vec<String>,
    ) {
        for field in message.fields() {
            let path = format!("{prefix}{}", field.name());
            let options = field.options();
            let category = match options.get_extension(&self.category).as_ref() {
                Value::EnumNumber(n) if *n != 0 => self.category_variant(*n),
                _ => None,
            };
            let routing = options.get_extension(&self.routing).as_bool() == Some(true);
            match (field.kind(), category, routing) {
                (Kind::Message(inner), None, false) => self.walk(payload, &inner, &format!("{path}."), rows, errors),
                (Kind::Message(_), ..) => errors.push(format!("{payload}.{path}: tag the leaves of a nested message")),
                (_, Some(variant), false) => {
                    let _ = writeln!(
                        rows,
                        "    PayloadField {{ payload: {payload:?}, path: {path:?}, category: Some(DataCategory::{variant}) }},"
                    );
                }
                (_, None, true) => {
                    let _ =
                        writeln!(rows, "    PayloadField {{ payload: {payload:?}, path: {path:?}, category: None }},");
                }
                _ => errors.push(format!("{payload}.{path}")),
            }
        }
    }

    /// `DATA_CATEGORY_PROTECTION_CONCERN` -> `ProtectionConcern`, as prost names enum variants.
    fn category_variant(&self, number: i32) -> Option<String> {
        let Kind::Enum(categories) = self.category.kind() else {
            return None;
        };
        let name = categories.get_value(number)?.name().to_owned();
        let words = name.strip_prefix("DATA_CATEGORY_")?.split('_');
        Some(words.map(|w| w[..1].to_owned() + &w[1..].to_lowercase()).collect())
    }
}
