//! The complete pickle opcode table (protocols 0 to 5), as CPython's `pickletools` documents it.
//!
//! Every byte that is not in this table is an unknown opcode: the scanner stops there and says
//! so, instead of guessing how long its argument is.

/// How an opcode's inline argument is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// One unsigned byte.
    U1,
    /// Two bytes, little-endian unsigned.
    U2,
    /// Four bytes, little-endian signed.
    I4,
    /// Four bytes, little-endian unsigned.
    U4,
    /// Eight bytes, little-endian unsigned.
    U8,
    /// An 8-byte big-endian float.
    F8,
    /// A text line ending in `\n` (decimal numbers, quoted strings, persistent ids).
    Line,
    /// Two text lines: module and name (`GLOBAL`, `INST`).
    TwoLines,
    /// Data of the length given by a 1-byte unsigned prefix.
    Len1,
    /// Data of the length given by a 4-byte little-endian signed prefix.
    Len4Signed,
    /// Data of the length given by a 4-byte little-endian unsigned prefix.
    Len4,
    /// Data of the length given by an 8-byte little-endian unsigned prefix.
    Len8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    pub code: u8,
    pub name: &'static str,
    pub arg: Arg,
    /// The protocol that introduced the opcode.
    pub proto: u8,
}

const fn op(code: u8, name: &'static str, arg: Arg, proto: u8) -> OpInfo {
    OpInfo {
        code,
        name,
        arg,
        proto,
    }
}

/// Every opcode, in `pickletools.opcodes` order.
pub const OPCODES: [OpInfo; 68] = [
    op(b'I', "INT", Arg::Line, 0),
    op(b'J', "BININT", Arg::I4, 1),
    op(b'K', "BININT1", Arg::U1, 1),
    op(b'M', "BININT2", Arg::U2, 1),
    op(b'L', "LONG", Arg::Line, 0),
    op(0x8a, "LONG1", Arg::Len1, 2),
    op(0x8b, "LONG4", Arg::Len4Signed, 2),
    op(b'S', "STRING", Arg::Line, 0),
    op(b'T', "BINSTRING", Arg::Len4Signed, 1),
    op(b'U', "SHORT_BINSTRING", Arg::Len1, 1),
    op(b'B', "BINBYTES", Arg::Len4, 3),
    op(b'C', "SHORT_BINBYTES", Arg::Len1, 3),
    op(0x8e, "BINBYTES8", Arg::Len8, 4),
    op(0x96, "BYTEARRAY8", Arg::Len8, 5),
    op(0x97, "NEXT_BUFFER", Arg::None, 5),
    op(0x98, "READONLY_BUFFER", Arg::None, 5),
    op(b'N', "NONE", Arg::None, 0),
    op(0x88, "NEWTRUE", Arg::None, 2),
    op(0x89, "NEWFALSE", Arg::None, 2),
    op(b'V', "UNICODE", Arg::Line, 0),
    op(0x8c, "SHORT_BINUNICODE", Arg::Len1, 4),
    op(b'X', "BINUNICODE", Arg::Len4, 1),
    op(0x8d, "BINUNICODE8", Arg::Len8, 4),
    op(b'F', "FLOAT", Arg::Line, 0),
    op(b'G', "BINFLOAT", Arg::F8, 1),
    op(b']', "EMPTY_LIST", Arg::None, 1),
    op(b'a', "APPEND", Arg::None, 0),
    op(b'e', "APPENDS", Arg::None, 1),
    op(b'l', "LIST", Arg::None, 0),
    op(b')', "EMPTY_TUPLE", Arg::None, 1),
    op(b't', "TUPLE", Arg::None, 0),
    op(0x85, "TUPLE1", Arg::None, 2),
    op(0x86, "TUPLE2", Arg::None, 2),
    op(0x87, "TUPLE3", Arg::None, 2),
    op(b'}', "EMPTY_DICT", Arg::None, 1),
    op(b'd', "DICT", Arg::None, 0),
    op(b's', "SETITEM", Arg::None, 0),
    op(b'u', "SETITEMS", Arg::None, 1),
    op(0x8f, "EMPTY_SET", Arg::None, 4),
    op(0x90, "ADDITEMS", Arg::None, 4),
    op(0x91, "FROZENSET", Arg::None, 4),
    op(b'0', "POP", Arg::None, 0),
    op(b'2', "DUP", Arg::None, 0),
    op(b'(', "MARK", Arg::None, 0),
    op(b'1', "POP_MARK", Arg::None, 1),
    op(b'g', "GET", Arg::Line, 0),
    op(b'h', "BINGET", Arg::U1, 1),
    op(b'j', "LONG_BINGET", Arg::U4, 1),
    op(b'p', "PUT", Arg::Line, 0),
    op(b'q', "BINPUT", Arg::U1, 1),
    op(b'r', "LONG_BINPUT", Arg::U4, 1),
    op(0x94, "MEMOIZE", Arg::None, 4),
    op(0x82, "EXT1", Arg::U1, 2),
    op(0x83, "EXT2", Arg::U2, 2),
    op(0x84, "EXT4", Arg::I4, 2),
    op(b'c', "GLOBAL", Arg::TwoLines, 0),
    op(0x93, "STACK_GLOBAL", Arg::None, 4),
    op(b'R', "REDUCE", Arg::None, 0),
    op(b'b', "BUILD", Arg::None, 0),
    op(b'i', "INST", Arg::TwoLines, 0),
    op(b'o', "OBJ", Arg::None, 1),
    op(0x81, "NEWOBJ", Arg::None, 2),
    op(0x92, "NEWOBJ_EX", Arg::None, 4),
    op(0x80, "PROTO", Arg::U1, 2),
    op(b'.', "STOP", Arg::None, 0),
    op(0x95, "FRAME", Arg::U8, 4),
    op(b'P', "PERSID", Arg::Line, 0),
    op(b'Q', "BINPERSID", Arg::None, 1),
];

const fn build_table() -> [Option<OpInfo>; 256] {
    let mut table = [None; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        table[OPCODES[i].code as usize] = Some(OPCODES[i]);
        i += 1;
    }
    table
}

static TABLE: [Option<OpInfo>; 256] = build_table();

/// The opcode for a byte, if pickle has one.
pub fn lookup(byte: u8) -> Option<&'static OpInfo> {
    TABLE[byte as usize].as_ref()
}

/// The highest protocol CPython knows.
pub const HIGHEST_PROTOCOL: u8 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_unique_codes_and_names() {
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for op in OPCODES {
            assert!(codes.insert(op.code), "duplicate code {:#x}", op.code);
            assert!(names.insert(op.name), "duplicate name {}", op.name);
        }
        assert_eq!((0..=255u8).filter(|b| lookup(*b).is_some()).count(), 68);
        assert!(lookup(0).is_none());
        assert!(lookup(0x99).is_none());
        assert_eq!(lookup(0x93).map(|o| o.name), Some("STACK_GLOBAL"));
    }
}
