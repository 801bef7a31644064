//! Artefact scanner tests: every policy, container and evasion, on fixtures written opcode by
//! opcode (tests/fixtures), plus bad input (bombs, lying lengths, truncation, huge files).

mod fixtures;

use fixtures::*;
use std::io::{self, Read};
use threatlens_rules::Severity;
use threatlens_rules::artefact::input::{Input, Streaming};
use threatlens_rules::artefact::pickle::{self, Mode, PickleLimits};
use threatlens_rules::artefact::{ArtefactReport, Codec, Format, Limits, scan_bytes, scan_path};

fn scan(name: &str, bytes: &[u8]) -> ArtefactReport {
    scan_bytes(name, bytes, &Limits::default())
}

/// `(rule, severity)` of every issue.
fn issues(report: &ArtefactReport) -> Vec<(&'static str, Severity)> {
    report.issues.iter().map(|i| (i.rule, i.severity)).collect()
}

fn has(report: &ArtefactReport, rule: &str, severity: Severity) -> bool {
    report
        .issues
        .iter()
        .any(|i| i.rule == rule && i.severity == severity)
}

fn message_of<'r>(report: &'r ArtefactReport, rule: &str) -> &'r str {
    report
        .issues
        .iter()
        .find(|i| i.rule == rule)
        .map_or("", |i| i.message.as_str())
}

// ---- pickle policies ----

#[test]
fn benign_state_dict_is_only_a_committed_pickle() {
    let report = scan("model.pt", &state_dict(3).bytes());
    assert_eq!(report.format, Format::Pickle);
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");
    let part = report.parts[0].pickle.as_ref().unwrap();
    assert_eq!(part.storages.len(), 3);
    assert_eq!(part.storages[0].storage_type, "torch.FloatStorage");
}

#[test]
fn os_system_is_critical_with_its_offset() {
    let report = scan("model.pkl", &call("os", "system", "echo pwned").bytes());
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert!(message_of(&report, "TL901").contains("`os.system` (GLOBAL at byte 2)"));
    assert!(!report.issues.iter().any(|i| i.rule == "TL903"));
}

#[test]
fn python2_names_and_every_dangerous_family() {
    for (module, name, severity) in [
        ("__builtin__", "eval", Severity::Critical),
        ("posix", "system", Severity::Critical),
        ("nt", "system", Severity::Critical),
        ("subprocess", "check_output", Severity::Critical),
        ("builtins", "getattr", Severity::Critical),
        ("runpy", "run_path", Severity::Critical),
        ("socket", "create_connection", Severity::Critical),
        ("webbrowser", "open", Severity::Critical),
        ("shutil", "rmtree", Severity::Critical),
        // picklescan missed pip (CVE-2025-1716).
        ("pip", "main", Severity::Critical),
        ("operator", "attrgetter", Severity::High),
        ("importlib", "import_module", Severity::High),
        ("types", "CodeType", Severity::High),
        ("ctypes", "CDLL", Severity::High),
        ("torch._C", "_load_for_lite_interpreter", Severity::High),
    ] {
        let report = scan("x.pkl", &call(module, name, "x").bytes());
        assert!(has(&report, "TL901", severity), "{module}.{name}: {report}");
    }
}

#[test]
fn unknown_globals_are_medium() {
    let p = Pickle::proto(2)
        .global("__main__", "Net")
        .empty_tuple()
        .newobj()
        .global("__main__", "Net")
        .pop()
        .stop();
    let report = scan("net.pkl", &p.bytes());
    assert_eq!(
        issues(&report),
        vec![("TL902", Severity::Medium)],
        "{report}"
    );
    assert!(message_of(&report, "TL902").contains("`__main__.Net` (GLOBAL at byte 2, 2 times)"));
}

#[test]
fn stack_global_through_the_memo() {
    // Module and name memoized early, fetched back with BINGET / LONG_BINGET later.
    let body = Pickle::new()
        .str("posix")
        .memoize()
        .pop()
        .str("system")
        .memoize()
        .pop()
        .binget(0)
        .long_binget(1)
        .stack_global()
        .str("id")
        .tuple1()
        .reduce()
        .stop();
    let p = Pickle::proto(4).frame(body.0.len() as u64).then(body);
    let report = scan("x.pkl", &p.bytes());
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert!(message_of(&report, "TL901").contains("`posix.system` (STACK_GLOBAL"));
}

#[test]
fn computed_stack_global_is_a_hidden_import() {
    // The module name is the result of a call: no scanner can know it statically.
    let p = Pickle::proto(4)
        .global("builtins", "str")
        .str("o")
        .tuple1()
        .reduce()
        .str("system")
        .stack_global()
        .stop();
    let report = scan("x.pkl", &p.bytes());
    assert!(has(&report, "TL910", Severity::High), "{report}");
    let ext = Pickle::proto(2).op(0x82).raw(&[7]).stop();
    assert!(has(&scan("x.pkl", &ext.bytes()), "TL910", Severity::High));
}

#[test]
fn concatenated_pickles_are_all_scanned() {
    let bytes = state_dict(1).then(call("os", "system", "id")).bytes();
    let report = scan("model.pt", &bytes);
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert_eq!(report.parts[0].pickle.as_ref().unwrap().pickles, 2);
}

#[test]
fn functools_partial_wrappers() {
    // partial(os.system, "id")() and partial around an unlisted callable.
    let p = Pickle::proto(2)
        .global("functools", "partial")
        .global("os", "system")
        .str("id")
        .tuple2()
        .reduce()
        .empty_tuple()
        .reduce()
        .stop();
    let report = scan("x.pkl", &p.bytes());
    assert!(has(&report, "TL901", Severity::Critical));
    assert!(has(&report, "TL901", Severity::High));
    let p = Pickle::proto(2)
        .global("functools", "partial")
        .global("mypkg.tools", "run")
        .tuple1()
        .reduce()
        .stop();
    let report = scan("x.pkl", &p.bytes());
    assert!(has(&report, "TL901", Severity::High));
    assert!(has(&report, "TL902", Severity::Medium));
}

#[test]
fn protocol_0_inst_and_obj() {
    let inst = Pickle::new().mark().str("id").inst("os", "system").stop();
    assert!(has(
        &scan("x.pkl", &inst.bytes()),
        "TL901",
        Severity::Critical
    ));
    let obj = Pickle::new()
        .mark()
        .global("subprocess", "Popen")
        .str("id")
        .op(b'o')
        .stop();
    assert!(has(
        &scan("x.pkl", &obj.bytes()),
        "TL901",
        Severity::Critical
    ));
}

#[test]
fn protocol_0_text_opcodes() {
    // INT, LONG, FLOAT, STRING, UNICODE, PUT/GET, DICT, LIST, SETITEM, APPEND.
    let bytes =
        b"(dp0\nS'a'\np1\nI42\nsS'b'\nL12L\nsV\\u00e9t\\u00e9\np2\n(lp3\nF1.5\naI00\nasg2\n0.";
    let report = scan("old.pkl", bytes);
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");
}

#[test]
fn joblib_arrays_are_skipped_and_what_follows_is_scanned() {
    let benign = Pickle::proto(4)
        .empty_list()
        .mark()
        .then(joblib_array(50))
        .then(joblib_array(3))
        .op(b'e')
        .stop();
    let report = scan("model.joblib", &benign.bytes());
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");
    assert_eq!(report.parts[0].pickle.as_ref().unwrap().array_bytes, 53 * 8);
    // A payload after array bytes that contain opcode-like bytes.
    let bad = Pickle::proto(4)
        .empty_list()
        .mark()
        .then(joblib_array(50))
        .op(b'e')
        .pop()
        .global("os", "system")
        .str("id")
        .tuple1()
        .reduce()
        .stop();
    let report = scan("model.joblib", &bad.bytes());
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert!(!report.issues.iter().any(|i| i.rule == "TL904"), "{report}");
}

#[test]
fn joblib_dtype_size_tricks_stop_the_scan() {
    // The type code says 1000-byte elements, the state (which NumPy uses) says 8: skipping by
    // the type code would jump over opcodes joblib executes.
    let trick = Pickle::proto(4)
        .then(joblib_wrapper_of(1, "V1000", 8))
        .raw(&[0; 8])
        .global("os", "system")
        .pop()
        .stop();
    let report = scan("m.joblib", &trick.bytes());
    assert!(
        message_of(&report, "TL905").contains("disagrees"),
        "{report}"
    );
    // Consistent flexible dtypes are skipped by their size.
    let strings = Pickle::proto(4)
        .then(joblib_wrapper_of(2, "U3", 12))
        .raw(&[b'c'; 24])
        .stop();
    assert_eq!(
        issues(&scan("m.joblib", &strings.bytes())),
        vec![("TL903", Severity::Low)]
    );
}

#[test]
fn long_protocol_0_strings_and_many_pickles() {
    let long = format!("S'{}'\n.", "x".repeat(5000));
    assert_eq!(
        issues(&scan("old.pkl", long.as_bytes())),
        vec![("TL903", Severity::Low)]
    );
    let many: Vec<u8> = std::iter::repeat_n(b"N.".as_slice(), 2000)
        .flatten()
        .copied()
        .collect();
    let report = scan("many.pkl", &many);
    assert!(
        message_of(&report, "TL905").contains("more than 1024 pickles"),
        "{report}"
    );
}

#[test]
fn compressed_joblib() {
    use std::io::Write;
    let payload = call("os", "system", "id").bytes();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&payload).unwrap();
    let report = scan("m.joblib", &zlib.finish().unwrap());
    assert_eq!(
        report.format,
        Format::Compressed(threatlens_rules::artefact::Codec::Zlib)
    );
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&payload).unwrap();
    assert!(has(
        &scan("m.joblib", &gz.finish().unwrap()),
        "TL901",
        Severity::Critical
    ));
    let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
    lz4.write_all(&payload).unwrap();
    assert!(has(
        &scan("m.joblib", &lz4.finish().unwrap()),
        "TL901",
        Severity::Critical
    ));
    let report = scan("m.joblib", &xz(&payload));
    assert_eq!(report.format, Format::Compressed(Codec::Xz));
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    let report = scan("m.joblib", &lzma_alone(&payload));
    assert_eq!(report.format, Format::Compressed(Codec::Lzma));
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&payload).unwrap();
    let report = scan("m.joblib", &bz.finish().unwrap());
    assert_eq!(report.format, Format::Compressed(Codec::Bzip2));
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    // A benign compressed pickle stays silent.
    let benign = call("collections", "OrderedDict", "x").bytes();
    let report = scan("m.joblib", &xz(&benign));
    assert!(!has(&report, "TL901", Severity::Critical), "{report}");
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let options = lzma_rust2::XzOptions::with_preset(1);
    let mut writer = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap()
}

/// The legacy `.lzma` container joblib writes for `compress="lzma"`.
fn lzma_alone(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let options = lzma_rust2::LzmaOptions::with_preset(1);
    let mut writer = lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &options, None).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap()
}

#[test]
fn lzma_bombs_and_greedy_dictionaries_are_bounded() {
    // A pickle claiming 1 GB of bytes, then 32 MB of zeros, compressed to a few KB: a 4 MB
    // limit stops the decoding there.
    let mut bytes = Pickle::proto(4).binbytes8_header(1 << 30).bytes();
    bytes.resize(bytes.len() + (32 << 20), 0);
    let report = scan_bytes("bomb.joblib", &xz(&bytes), &Limits::with_max_bytes(4 << 20));
    assert!(
        report.notes.iter().any(|n| n.contains("size limit")),
        "{report}"
    );
    // A `.lzma` header asking for a 1.5 GB dictionary is refused, not allocated.
    let mut greedy = lzma_alone(&call("os", "system", "id").bytes());
    greedy[1..5].copy_from_slice(&(3u32 << 29).to_le_bytes());
    let report = scan("greedy.joblib", &greedy);
    assert!(has(&report, "TL905", Severity::Medium), "{report}");
    assert!(
        message_of(&report, "TL905").contains("cannot be decoded"),
        "{report}"
    );
}

// ---- malformed pickles ----

#[test]
fn malformed_pickles_are_findings() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "unknown opcode",
            Pickle::proto(2).op(0xff).bytes(),
            "unknown pickle opcode 0xff",
        ),
        (
            "truncated",
            call("collections", "OrderedDict", "x").bytes()[..20].to_vec(),
            "truncated",
        ),
        (
            "lying BINBYTES8",
            Pickle::proto(4).binbytes8_header(1 << 63).bytes(),
            "claims 9223372036854775808 bytes",
        ),
        (
            "negative BINSTRING",
            Pickle::proto(2)
                .op(b'T')
                .raw(&(-5i32).to_le_bytes())
                .bytes(),
            "negative length",
        ),
        (
            "memo miss",
            Pickle::proto(2).binget(9).stop().bytes(),
            "memo index 9",
        ),
        (
            "underflow",
            Pickle::proto(2).reduce().stop().bytes(),
            "underflow",
        ),
        (
            "lying FRAME",
            Pickle::proto(4).frame(1 << 40).none().stop().bytes(),
            "FRAME claims",
        ),
        ("bad protocol", vec![0x80, 9, b'N', b'.'], "protocol 9"),
        (
            "non-identifier GLOBAL",
            Pickle::proto(2).global("os system", "x").stop().bytes(),
            "not an importable Python name",
        ),
    ];
    for (what, bytes, expected) in cases {
        let report = scan("x.pkl", &bytes);
        assert!(
            report
                .issues
                .iter()
                .any(|i| i.rule == "TL904" && i.message.contains(expected)),
            "{what}: {report}"
        );
    }
}

#[test]
fn deep_nesting_and_huge_memo_are_bounded() {
    // 200k nested lists: `] ] ] ... a a a`.
    let n = 200_000;
    let mut bytes = vec![0x80, 2];
    bytes.extend(std::iter::repeat_n(b']', n));
    bytes.extend(std::iter::repeat_n(b'a', n - 1));
    bytes.push(b'.');
    let report = scan("deep.pkl", &bytes);
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");

    // 300k memo entries, over a limit of 100k: later GETs of dropped entries are not errors.
    let mut p = Pickle::proto(4).empty_list();
    for _ in 0..300_000 {
        p = p.op(b'N').memoize().pop();
    }
    let p = p.long_binget(250_000).pop().stop();
    let limits = Limits {
        pickle: PickleLimits {
            max_memo: 100_000,
            ..PickleLimits::default()
        },
        ..Limits::default()
    };
    let report = scan_bytes("memo.pkl", &p.bytes(), &limits);
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");

    // A stack deeper than the limit stops with a finding.
    let limits = Limits {
        pickle: PickleLimits {
            max_stack: 1000,
            ..PickleLimits::default()
        },
        ..Limits::default()
    };
    let mut bytes = vec![0x80, 2];
    bytes.extend(std::iter::repeat_n(b'N', 5000));
    let report = scan_bytes("stack.pkl", &bytes, &limits);
    assert!(has(&report, "TL905", Severity::Medium), "{report}");
}

// ---- containers and zip tricks ----

#[test]
fn pytorch_zip_benign_and_malicious() {
    let benign = torch_zip("archive", &state_dict(2).bytes(), 2);
    let report = scan("model.pt", &benign);
    assert_eq!(report.format, Format::Zip);
    assert_eq!(report.container, Some("PyTorch checkpoint"));
    assert_eq!(issues(&report), vec![("TL903", Severity::Low)], "{report}");

    let evil = torch_zip("resnet50_weights", &call("os", "system", "id").bytes(), 1);
    let report = scan("model.pt", &evil);
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert!(message_of(&report, "TL901").starts_with("resnet50_weights/data.pkl: imports"));
}

#[test]
fn zip_tricks() {
    let payload = call("subprocess", "call", "id").bytes();
    // Pickle under an unusual entry name (no .pkl): found by sniffing.
    let odd = zip(&[
        Entry::stored("archive/data.pkl", state_dict(1).bytes()),
        Entry::stored("archive/data/0", payload.clone()),
    ]);
    assert!(has(&scan("model.pt", &odd), "TL901", Severity::Critical));
    // A zip inside a `.bin`.
    let bin = zip(&[Entry::deflated("pytorch_model/data.pkl", payload.clone())]);
    let report = scan("pytorch_model.bin", &bin);
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    // The "encrypted" flag bit set (CVE-2025-1945): torch ignores it, so do we.
    let mut flagged = Entry::stored("archive/data.pkl", payload.clone());
    flagged.flags = 1;
    assert!(has(
        &scan("model.pt", &zip(&[flagged])),
        "TL901",
        Severity::Critical
    ));
    // A pickle named .safetensors.
    let report = scan("model.safetensors", &payload);
    assert!(has(&report, "TL901", Severity::Critical));
    assert!(message_of(&report, "TL904").contains("named `.safetensors`"));
    // A `.pt` that is really safetensors is fine.
    let report = scan("model.pt", &safetensors(2, 4));
    assert_eq!(report.format, Format::Safetensors);
    assert!(report.issues.is_empty(), "{report}");
}

#[test]
fn random_bin_files_are_silent() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    for len in [0usize, 1, 100, 5000] {
        let bytes: Vec<u8> = (0..len).map(|_| noise()).collect();
        let report = scan("tokenizer.bin", &bytes);
        assert!(
            report.issues.is_empty() && report.notes.is_empty(),
            "{report}"
        );
    }
    // Even when it starts like a pickle protocol header.
    let mut bytes = vec![0x80, 0x02];
    bytes.extend((0..1000).map(|_| noise()));
    let report = scan("vocab.bin", &bytes);
    assert!(report.issues.is_empty(), "{report}");
}

#[test]
fn zip_bomb_stops_early() {
    // Ten 1 GB entries of a pickle claiming 1 GB of bytes, built from one repeated deflate
    // chunk; a 64 MB limit stops the scan long before 10 GB are inflated.
    let chunk = {
        let mut compress = flate2::Compress::new(flate2::Compression::fast(), false);
        let zeros = vec![0u8; 64 << 20];
        let mut out = Vec::with_capacity(1 << 20);
        compress
            .compress_vec(&zeros, &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        out
    };
    let header = Pickle::proto(4).binbytes8_header((1 << 30) - 11).bytes();
    let mut data = {
        let mut compress = flate2::Compress::new(flate2::Compression::fast(), false);
        let mut out = Vec::with_capacity(1024);
        compress
            .compress_vec(&header, &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        out
    };
    for _ in 0..16 {
        data.extend_from_slice(&chunk);
    }
    data.extend_from_slice(&[0x03, 0x00]); // final empty block
    let entries: Vec<_> = (0..10)
        .map(|i| (format!("bomb/{i}.pkl"), 0u16, 8u16, u32::MAX, data.clone()))
        .collect();
    let bomb = zip_raw(&entries);
    let report = scan_bytes("bomb.pt", &bomb, &Limits::with_max_bytes(64 << 20));
    assert!(
        report.notes.iter().any(|n| n.contains("size limit")),
        "{report}"
    );
}

#[test]
fn too_many_zip_entries() {
    let entries: Vec<Entry> = (0..50).map(|_| Entry::stored("a", vec![])).collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let report = scan_bytes("many.pt", &zip(&entries), &limits);
    assert!(has(&report, "TL905", Severity::Medium), "{report}");
}

#[test]
fn numpy_files() {
    let floats = npy("'<f4'", "(2, 2)", &[0u8; 16]);
    let report = scan("a.npy", &floats);
    assert!(report.issues.is_empty(), "{report}");
    let object = npy("'|O'", "(1,)", &call("os", "system", "id").bytes());
    assert!(has(&scan("a.npy", &object), "TL901", Severity::Critical));
    let benign_object = npy("'|O'", "(1,)", &Pickle::proto(2).none().stop().bytes());
    assert_eq!(
        issues(&scan("a.npy", &benign_object)),
        vec![("TL903", Severity::Low)]
    );
    let truncated = npy("'<f8'", "(1000,)", &[0u8; 8]);
    assert!(message_of(&scan("a.npy", &truncated), "TL904").contains("truncated"));
    let mut bad_version = floats.clone();
    bad_version[6] = 9;
    assert!(has(&scan("a.npy", &bad_version), "TL904", Severity::Medium));
    // .npz: a zip of .npy, one of them an object array.
    let npz = zip(&[
        Entry::deflated("w.npy", floats.clone()),
        Entry::deflated("meta.npy", object.clone()),
    ]);
    let report = scan("arrays.npz", &npz);
    assert_eq!(report.container, Some("NumPy archive"));
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
    assert!(!report.issues.iter().any(|i| i.rule == "TL904"), "{report}");
    let clean = zip(&[Entry::deflated("w.npy", floats)]);
    assert!(scan("arrays.npz", &clean).issues.is_empty());
}

#[test]
fn keras_files() {
    let lambda = r#"{"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "evil",
         "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}]}}"#;
    let keras = zip(&[
        Entry::deflated("metadata.json", br#"{"keras_version": "3.8.0"}"#.to_vec()),
        Entry::deflated("config.json", lambda.as_bytes().to_vec()),
        Entry::stored("model.weights.h5", b"\x89HDF\r\n\x1a\n".to_vec()),
    ]);
    let report = scan("model.keras", &keras);
    assert_eq!(report.container, Some("Keras model"));
    assert!(has(&report, "TL906", Severity::High), "{report}");
    assert!(message_of(&report, "TL906").contains("`evil`"));

    // CVE-2025-1550: a function named by module.
    let function = r#"{"module": "keras", "class_name": "Functional", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d",
         "activation": {"module": "os", "class_name": "function", "config": "system",
                        "registered_name": "function"}}},
        {"module": "my_layers", "class_name": "Custom", "config": {"name": "c"}}]}}"#;
    let report = scan(
        "model.keras",
        &zip(&[Entry::stored("config.json", function.as_bytes().to_vec())]),
    );
    assert!(
        message_of(&report, "TL901").contains("`os.system`"),
        "{report}"
    );
    assert!(has(&report, "TL902", Severity::Medium));

    let benign = r#"{"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}}]}}"#;
    let report = scan(
        "model.keras",
        &zip(&[Entry::stored("config.json", benign.as_bytes().to_vec())]),
    );
    assert!(report.issues.is_empty(), "{report}");
}

#[test]
fn legacy_h5_model_config() {
    let mut h5 = b"\x89HDF\r\n\x1a\n".to_vec();
    h5.extend(vec![0u8; 3000]);
    h5.extend_from_slice(b"model_config\0\0\0\0");
    h5.extend_from_slice(
        br#"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAAAAAA", null, null], "function_type": "lambda"}}]}}"#,
    );
    h5.extend(vec![0u8; 2 << 20]);
    let report = scan("model.h5", &h5);
    assert_eq!(report.format, Format::Hdf5);
    assert!(has(&report, "TL906", Severity::High), "{report}");
    // Weights-only files have no config: nothing to report.
    let mut weights = b"\x89HDF\r\n\x1a\n".to_vec();
    weights.extend(vec![7u8; 5000]);
    assert!(scan("weights.h5", &weights).issues.is_empty());
}

#[test]
fn safetensors_headers() {
    assert!(scan("m.safetensors", &safetensors(3, 8)).issues.is_empty());
    let bad = |header: &str, data: &[u8], expected: &str| {
        let report = scan("m.safetensors", &safetensors_raw(header, data));
        assert!(
            report
                .issues
                .iter()
                .any(|i| i.rule == "TL904" && i.message.contains(expected)),
            "{header}: {report}"
        );
    };
    bad(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
        &[0; 4],
        "needs 8 bytes",
    );
    bad(
        r#"{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}}"#,
        &[0; 1],
        "unknown dtype",
    );
    bad(
        r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
        &[0; 6],
        "overlaps",
    );
    bad(
        r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#,
        &[0; 6],
        "unused bytes",
    );
    bad(
        r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
        &[0; 50],
        "after the last tensor",
    );
    bad(
        r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2000]}}"#,
        &[0; 2],
        "past the",
    );
    bad(r#"{"__metadata__":{"k":1}}"#, &[], "not a string");
    bad(
        r#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#,
        &[],
        "declared twice",
    );
    bad("[1,2]", &[], "not a JSON object");
    // A header length of 2^63.
    let mut lying = (1u64 << 63).to_le_bytes().to_vec();
    lying.extend_from_slice(b"{}");
    let report = scan("m.safetensors", &lying);
    assert!(
        message_of(&report, "TL904").contains("beyond the end"),
        "{report}"
    );
    // F4 (4-bit) tensors: two per byte.
    let f4 = safetensors_raw(
        r#"{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#,
        &[0; 2],
    );
    assert!(scan("m.safetensors", &f4).issues.is_empty());
}

#[test]
fn gguf_files() {
    let benign = Gguf::new()
        .kv_str("general.architecture", "llama")
        .kv_str(
            "tokenizer.chat_template",
            "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] }}{% endfor %}",
        )
        .tensor("tok", 8);
    let report = scan("m.gguf", &benign.bytes());
    assert!(report.issues.is_empty(), "{report}");
    assert_eq!(report.parts[0].tensors.len(), 1);

    let evil = Gguf::new().kv_str(
        "tokenizer.chat_template",
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    );
    let report = scan("m.gguf", &evil.bytes());
    assert!(has(&report, "TL907", Severity::High), "{report}");
    assert!(message_of(&report, "TL907").contains("`__globals__`"));

    // A string claiming 2^62 bytes.
    let mut lying = b"GGUF".to_vec();
    lying.extend_from_slice(&3u32.to_le_bytes());
    lying.extend_from_slice(&0u64.to_le_bytes());
    lying.extend_from_slice(&1u64.to_le_bytes());
    lying.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(message_of(&scan("m.gguf", &lying), "TL904").contains("claims"));
    // Truncated and bad magic.
    let bytes = benign.bytes();
    assert!(has(
        &scan("m.gguf", &bytes[..40]),
        "TL904",
        Severity::Medium
    ));
    assert!(has(
        &scan("m.gguf", b"GGUG\x03\0\0\0"),
        "TL904",
        Severity::Medium
    ));
}

#[test]
fn onnx_models() {
    let standard = onnx_model(
        &[
            onnx_node("Relu", ""),
            onnx_node("FusedConv", "com.microsoft"),
        ],
        &[],
    );
    assert!(scan("m.onnx", &standard).issues.is_empty());
    let custom = onnx_model(&[onnx_node("Evil", "com.example.ops")], &[]);
    let report = scan("m.onnx", &custom);
    assert!(has(&report, "TL909", Severity::Medium), "{report}");
    assert!(message_of(&report, "TL909").contains("`com.example.ops` (Evil)"));
    for location in ["../../../etc/passwd", "/etc/shadow", "C:\\secrets.bin"] {
        let escape = onnx_model(&[], &[onnx_external_tensor("w", location)]);
        let report = scan("m.onnx", &escape);
        assert!(
            has(&report, "TL908", Severity::High),
            "{location}: {report}"
        );
    }
    let fine = onnx_model(&[], &[onnx_external_tensor("w", "m.onnx.data")]);
    assert!(scan("m.onnx", &fine).issues.is_empty());
    // A length beyond the message.
    let mut broken = onnx_model(&[onnx_node("Relu", "")], &[]);
    broken.truncate(broken.len() - 5);
    assert!(has(&scan("m.onnx", &broken), "TL904", Severity::Medium));
}

#[test]
fn legacy_tar_checkpoint() {
    let mut tar = Vec::new();
    for (name, data) in [
        ("sys_info", Pickle::proto(2).empty_dict().stop().bytes()),
        ("pickle", call("os", "system", "id").bytes()),
    ] {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{:011o}\0", data.len());
        header[124..136].copy_from_slice(size.as_bytes());
        header[156] = b'0';
        header[257..262].copy_from_slice(b"ustar");
        tar.extend_from_slice(&header);
        tar.extend_from_slice(&data);
        tar.extend(vec![0u8; (512 - data.len() % 512) % 512]);
    }
    tar.extend(vec![0u8; 1024]);
    let report = scan("old.pt", &tar);
    assert_eq!(report.format, Format::Tar);
    assert!(
        message_of(&report, "TL901").starts_with("pickle: imports `os.system`"),
        "{report}"
    );
}

// ---- huge inputs ----

/// A `Read` that produces a pickle header and then `len` zero bytes, lazily.
struct Lazy {
    header: Vec<u8>,
    left: u64,
}

impl Read for Lazy {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.header.is_empty() {
            let n = buf.len().min(self.header.len());
            buf[..n].copy_from_slice(&self.header[..n]);
            self.header.drain(..n);
            return Ok(n);
        }
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(0);
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn twenty_gigabyte_stream_stops_at_the_limit() {
    let total = 20u64 << 30;
    let header = Pickle::proto(4).binbytes8_header(total).bytes();
    let mut source = Streaming::new(Lazy {
        header,
        left: total,
    });
    let mut input = Input::new(&mut source, None, 256 << 20);
    let report = pickle::scan(&mut input, Mode::Strict, &PickleLimits::default());
    assert!(
        report
            .incomplete
            .as_deref()
            .unwrap_or("")
            .contains("size limit")
    );
}

#[test]
fn twenty_gigabyte_sparse_file_is_skipped_by_seeking() {
    let temp = tempdir();
    let dir = temp.path().to_path_buf();
    let path = dir.join("huge.pkl");
    let size = 20u64 << 30;
    let tail = Pickle::new().global("os", "system").pop().stop().bytes();
    let head = Pickle::proto(4)
        .binbytes8_header(size - 11 - tail.len() as u64)
        .bytes();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&head).unwrap();
        file.set_len(size).unwrap();
        file.seek(SeekFrom::Start(size - tail.len() as u64))
            .unwrap();
        file.write_all(&tail).unwrap();
    }
    // Default limit: stops at 2 GB with a note, quickly (no 20 GB read).
    let report = scan_path(&path, &Limits::default());
    assert!(
        report.notes.iter().any(|n| n.contains("size limit")),
        "{report}"
    );
    // Limit raised: the payload is skipped by seeking and the global at the end is found.
    let report = scan_path(&path, &Limits::with_max_bytes(u64::MAX));
    assert!(has(&report, "TL901", Severity::Critical), "{report}");
}

#[test]
fn symlinks_and_special_files() {
    let temp = tempdir();
    let dir = temp.path().to_path_buf();
    let evil = dir.join("evil.pkl");
    std::fs::write(&evil, call("os", "system", "id").bytes()).unwrap();
    let link = dir.join("link.pkl");
    std::os::unix::fs::symlink(&evil, &link).unwrap();
    // A loop of links: an error, not a hang.
    std::os::unix::fs::symlink(dir.join("b.pkl"), dir.join("a.pkl")).unwrap();
    std::os::unix::fs::symlink(dir.join("a.pkl"), dir.join("b.pkl")).unwrap();
    let report = scan_path(&dir.join("a.pkl"), &Limits::default());
    assert!(report.issues.is_empty() && !report.notes.is_empty());
    // A named link is followed (the user asked for it); the walk does not follow links.
    assert!(has(
        &scan_path(&link, &Limits::default()),
        "TL901",
        Severity::Critical
    ));
    let config = threatlens_rules::Config::default();
    let result = threatlens_rules::scan(
        threatlens_rules::Catalogue::builtin(),
        &config,
        std::slice::from_ref(&dir),
    );
    let scanned: Vec<_> = result.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(scanned, vec![evil.clone()], "{scanned:?}");
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("threatlens-artefacts-")
        .tempdir()
        .unwrap()
}

// ---- integration ----

#[test]
fn check_scans_artefacts_and_raises_code_that_loads_them() {
    let temp = tempdir();
    let dir = temp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(
        dir.join("models/model.pt"),
        call("os", "system", "id").bytes(),
    )
    .unwrap();
    std::fs::write(dir.join("models/ok.pt"), state_dict(1).bytes()).unwrap();
    std::fs::write(
        dir.join("train.py"),
        "import torch\nm = torch.load(\"models/model.pt\")\nk = torch.load('models/ok.pt')\n",
    )
    .unwrap();
    let config =
        threatlens_rules::Config::from_settings(Default::default(), None, dir.clone()).unwrap();
    let result = threatlens_rules::scan(
        threatlens_rules::Catalogue::builtin(),
        &config,
        std::slice::from_ref(&dir),
    );
    let by_rule = |file: &str, rule: &str| {
        result
            .findings()
            .filter(|(f, finding)| f.path.ends_with(file) && finding.rule == rule)
            .map(|(_, finding)| finding.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_rule("model.pt", "TL901").len(), 1);
    assert_eq!(by_rule("ok.pt", "TL903").len(), 1);
    let loads = by_rule("train.py", "TL110");
    assert_eq!(loads.len(), 2, "{loads:#?}");
    let raised = loads.iter().find(|f| f.span.start.line == 2).unwrap();
    assert_eq!(raised.severity, Severity::Critical);
    assert!(
        raised
            .message
            .contains("is flagged by the artefact scan (TL901 critical)")
    );
    let plain = loads.iter().find(|f| f.span.start.line == 3).unwrap();
    assert_ne!(plain.severity, Severity::Critical);
    assert!(!plain.message.contains("flagged"));
}

#[test]
fn every_issue_rule_is_in_the_catalogue() {
    let catalogue = threatlens_rules::Catalogue::builtin();
    for id in [
        "TL901", "TL902", "TL903", "TL904", "TL905", "TL906", "TL907", "TL908", "TL909", "TL910",
    ] {
        let rule = catalogue.rule(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(rule.builtin);
        assert_eq!(
            rule.category,
            threatlens_rules::Category::UnsafeArtefactFile
        );
        assert!(rule.references.cwe.iter().any(|c| c.starts_with("CWE-")));
    }
    let report = scan("model.pkl", &call("os", "system", "id").bytes());
    let findings = report.findings(catalogue);
    assert_eq!(findings[0].span.start.line, 1);
    assert!(findings[0].message.contains("byte 2"));
}

#[test]
fn listing_shows_imports_and_serialises() {
    let temp = tempdir();
    let dir = temp.path().to_path_buf();
    let path = dir.join("model.pt");
    std::fs::write(&path, torch_zip("archive", &state_dict(2).bytes(), 2)).unwrap();
    let listing = threatlens_rules::artefact::describe_artefact(&path).unwrap();
    let text = listing.to_string();
    assert!(text.contains("archive/data.pkl: pickle"), "{text}");
    assert!(
        text.contains("torch._utils._rebuild_tensor_v2  allowed"),
        "{text}"
    );
    assert!(text.contains("storages: 2"), "{text}");
    let json = serde_json::to_value(&listing).unwrap();
    assert_eq!(json["format"], "zip");
    assert!(threatlens_rules::artefact::describe_artefact(&dir).is_err());
}

#[test]
fn files_written_by_numpy_and_joblib_are_benign() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".py") || name.ends_with(".md") {
            continue;
        }
        let report = scan_path(&path, &Limits::default());
        let expected: Vec<(&str, Severity)> = if name == "floats.npy" || name == "arrays.npz" {
            vec![]
        } else {
            vec![("TL903", Severity::Low)]
        };
        assert_eq!(issues(&report), expected, "{report}");
        assert!(report.notes.is_empty(), "{report}");
        checked += 1;
    }
    assert_eq!(checked, 12);
}

/// Seed inputs for each fuzz target, one per fixture kind.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let payload = call("os", "system", "id").bytes();
    let mut tar = Vec::new();
    let data = state_dict(1).bytes();
    let mut header = [0u8; 512];
    header[..6].copy_from_slice(b"pickle");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[156] = b'0';
    header[257..262].copy_from_slice(b"ustar");
    tar.extend_from_slice(&header);
    tar.extend_from_slice(&data);
    tar.extend(vec![0u8; 1024 + (512 - data.len() % 512) % 512]);
    let zlib = {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&payload).unwrap();
        z.finish().unwrap()
    };
    let mut h5 = b"\x89HDF\r\n\x1a\n".to_vec();
    h5.extend_from_slice(br#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "l"}}]}}"#);
    vec![
        ("pickle", "pkl", state_dict(2).bytes()),
        ("pickle", "pkl", payload.clone()),
        (
            "pickle",
            "pkl",
            Pickle::proto(4)
                .empty_list()
                .mark()
                .then(joblib_array(4))
                .op(b'e')
                .stop()
                .bytes(),
        ),
        (
            "pickle",
            "pkl",
            b"(dp0\nS'a'\np1\nI42\nsV\\u00e9\np2\n(lp3\nF1.5\naI00\nasg2\n0.".to_vec(),
        ),
        ("zip", "pt", torch_zip("archive", &state_dict(1).bytes(), 2)),
        (
            "zip",
            "pt",
            zip(&[Entry::deflated(
                "config.json",
                br#"{"module": "os", "class_name": "function", "config": "system"}"#.to_vec(),
            )]),
        ),
        (
            "zip",
            "npz",
            zip(&[Entry::deflated("a.npy", npy("'<f4'", "(2,)", &[0; 8]))]),
        ),
        ("npy", "npy", npy("'<f4'", "(2, 2)", &[0; 16])),
        ("npy", "npy", npy("'|O'", "(1,)", &payload)),
        ("safetensors", "safetensors", safetensors(2, 3)),
        (
            "gguf",
            "gguf",
            Gguf::new()
                .kv_str("tokenizer.chat_template", "{{ x.__class__ }}")
                .kv_u32("general.alignment", 32)
                .tensor("t", 8)
                .bytes(),
        ),
        (
            "onnx",
            "onnx",
            onnx_model(
                &[onnx_node("Op", "custom")],
                &[onnx_external_tensor("w", "../x")],
            ),
        ),
        ("hdf5", "h5", h5),
        ("tar", "pt", tar),
        ("compressed", "joblib", zlib),
        ("compressed", "joblib", xz(&payload)),
        ("compressed", "joblib", lzma_alone(&payload)),
        ("compressed", "joblib", {
            use std::io::Write;
            let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            bz.write_all(&payload).unwrap();
            bz.finish().unwrap()
        }),
        (
            "jinja",
            "txt",
            b"{% for m in messages %}{{ m['content'] | attr('__class__') }}{% endfor %}".to_vec(),
        ),
    ]
}

/// Writes the seeds into `rules/fuzz/corpus/<target>/` (run once: `cargo test -p
/// threatlens-rules --test artefacts -- --ignored write_fuzz_seeds`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (index, (target, _, bytes)) in seeds().into_iter().enumerate() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{index}")), bytes).unwrap();
    }
}

/// The fuzz targets' property (no panic, bounded time) on seeded random mutations of every
/// seed, for machines without nightly Rust and libFuzzer.
#[test]
fn random_mutations_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let limits = Limits::with_max_bytes(4 << 20);
    for (target, ext, seed) in seeds() {
        for _ in 0..300 {
            let mut bytes = seed.clone();
            for _ in 0..=(next() % 8) {
                let at = if bytes.is_empty() {
                    0
                } else {
                    next() as usize % bytes.len()
                };
                match next() % 5 {
                    0 if !bytes.is_empty() => bytes[at] ^= 1 << (next() % 8),
                    1 if !bytes.is_empty() => bytes[at] = next() as u8,
                    2 => bytes.insert(at, next() as u8),
                    3 => bytes.truncate(at),
                    _ => {
                        // A length-like field: eight 0xff bytes.
                        let end = (at + 8).min(bytes.len());
                        bytes[at..end].fill(0xff);
                    }
                }
            }
            if target == "jinja" {
                let _ = threatlens_rules::artefact::jinja::risky_constructs(
                    &String::from_utf8_lossy(&bytes),
                );
            } else {
                let _ = scan_bytes(&format!("fuzz.{ext}"), &bytes, &limits).to_string();
            }
        }
    }
}
