using System.Buffers.Binary;
using System.Text;

namespace TransformerLab.NativeFix;

/// <summary>
/// The parts of a 64-bit little-endian ELF shared object that symbol versioning lives in:
/// the dynamic symbol table, its string table, <c>.gnu.version</c> (one version index per symbol),
/// <c>.gnu.version_r</c> (versions this object needs) and <c>.gnu.version_d</c> (versions it defines).
/// Reads and edits a byte array in place; it never resizes anything, so offsets stay valid.
/// </summary>
public sealed class ElfImage
{
    const uint ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    const int SymSize = 24;

    /// <summary>VER_FLG_WEAK: a missing version is a warning for the dynamic linker, not an error.</summary>
    public const ushort VerFlagWeak = 0x2;

    /// <summary>VER_NDX_GLOBAL: the symbol is bound without a version.</summary>
    public const ushort VersionIndexGlobal = 1;

    readonly Section _dynsym, _dynstr;
    readonly Section? _versym, _verneed, _verdef;

    public byte[] Bytes { get; }

    ElfImage(byte[] bytes, Section dynsym, Section dynstr, Section? versym, Section? verneed, Section? verdef)
    {
        Bytes = bytes;
        _dynsym = dynsym;
        _dynstr = dynstr;
        _versym = versym;
        _verneed = verneed;
        _verdef = verdef;
    }

    public static ElfImage Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses the section headers; throws <see cref="InvalidDataException"/> naming what is missing.</summary>
    public static ElfImage Parse(byte[] bytes, string name = "<bytes>")
    {
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F')
            throw new InvalidDataException($"{name} is not an ELF file.");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException($"{name} is not a 64-bit little-endian ELF file (class {bytes[4]}, data {bytes[5]}).");

        var span = bytes.AsSpan();
        ulong shoff = U64(span, 0x28);
        int shentsize = U16(span, 0x3a), shnum = U16(span, 0x3c);
        if (shoff == 0 || shnum == 0 || shentsize < 64 || (long)shoff + (long)shnum * shentsize > bytes.Length)
            throw new InvalidDataException($"{name} has no usable section header table.");

        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var h = span.Slice((int)shoff + i * shentsize, shentsize);
            sections[i] = new Section(U32(h, 4), (long)U64(h, 0x18), (long)U64(h, 0x20), (int)U32(h, 0x28), (int)U32(h, 0x2c));
            if (sections[i].Offset + sections[i].Size > bytes.Length && sections[i].Type != 8 /* NOBITS */)
                throw new InvalidDataException($"{name}: section {i} lies outside the file.");
        }

        Section? Find(uint type) => sections.Where(s => s.Type == type).Cast<Section?>().FirstOrDefault();
        var dynsym = Find(ShtDynsym) ?? throw new InvalidDataException($"{name} has no dynamic symbol table (.dynsym).");
        if (dynsym.Link <= 0 || dynsym.Link >= shnum)
            throw new InvalidDataException($"{name}: .dynsym does not link to a string table.");
        return new ElfImage(bytes, dynsym, sections[dynsym.Link], Find(ShtGnuVersym), Find(ShtGnuVerneed), Find(ShtGnuVerdef));
    }

    public int SymbolCount => (int)(_dynsym.Size / SymSize);

    /// <summary>Offset of symbol <paramref name="index"/>'s name in <c>.dynstr</c>.</summary>
    public int SymbolNameOffset(int index) => (int)U32(Bytes, (int)_dynsym.Offset + index * SymSize);

    public string SymbolName(int index) => ReadString(SymbolNameOffset(index));

    /// <summary>True when the symbol is undefined here (section index SHN_UNDEF): a reference to another object.</summary>
    public bool IsUndefined(int index) => U16(Bytes, (int)_dynsym.Offset + index * SymSize + 6) == 0;

    /// <summary>The <c>.gnu.version</c> entry of a symbol, without the hidden bit.</summary>
    public ushort SymbolVersionIndex(int index) =>
        _versym is { } v ? (ushort)(U16(Bytes, (int)v.Offset + index * 2) & 0x7fff) : VersionIndexGlobal;

    public void SetSymbolVersionIndex(int index, ushort value)
    {
        var v = _versym ?? throw new InvalidOperationException("The file has no .gnu.version section.");
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan((int)v.Offset + index * 2), value);
    }

    /// <summary>Reads a NUL-terminated string of <c>.dynstr</c>.</summary>
    public string ReadString(int offset)
    {
        var start = (int)_dynstr.Offset + offset;
        var end = Array.IndexOf(Bytes, (byte)0, start);
        return Encoding.ASCII.GetString(Bytes, start, end - start);
    }

    /// <summary>Overwrites the string at <paramref name="offset"/> with a shorter or equal one, padding with NULs.</summary>
    public void OverwriteString(int offset, string replacement)
    {
        var old = ReadString(offset);
        if (replacement.Length > old.Length)
            throw new ArgumentException($"'{replacement}' does not fit in place of '{old}'.", nameof(replacement));
        var at = (int)_dynstr.Offset + offset;
        Array.Clear(Bytes, at, old.Length);
        Encoding.ASCII.GetBytes(replacement, 0, replacement.Length, Bytes, at);
    }

    /// <summary>
    /// Every string offset into <c>.dynstr</c> this reader knows to be referenced (symbol names, needed files and
    /// versions, defined versions); used to check that rewriting a string cannot rename anything else.
    /// </summary>
    public IEnumerable<int> ReferencedStringOffsets()
    {
        for (int i = 0; i < SymbolCount; i++) yield return SymbolNameOffset(i);
        foreach (var need in VersionNeeds())
        {
            yield return need.FileNameOffset;
            foreach (var aux in need.Versions) yield return aux.NameOffset;
        }
        foreach (var def in VersionDefinitionNameOffsets()) yield return def;
    }

    /// <summary>The <c>.gnu.version_r</c> entries: for each needed library, the versions required of it.</summary>
    public IReadOnlyList<VersionNeed> VersionNeeds()
    {
        var result = new List<VersionNeed>();
        if (_verneed is not { } sec) return result;
        long at = sec.Offset;
        for (int n = 0; n < Math.Max(sec.Info, 1) && at + 16 <= sec.Offset + sec.Size; n++)
        {
            int cnt = U16(Bytes, (int)at + 2);
            int file = (int)U32(Bytes, (int)at + 4);
            long aux = at + U32(Bytes, (int)at + 8);
            var versions = new List<VersionNeedAux>();
            for (int a = 0; a < cnt; a++)
            {
                int nameOff = (int)U32(Bytes, (int)aux + 8);
                versions.Add(new VersionNeedAux(aux, ReadString(nameOff), nameOff, U16(Bytes, (int)aux + 4), U16(Bytes, (int)aux + 6)));
                uint next = U32(Bytes, (int)aux + 12);
                if (next == 0) break;
                aux += next;
            }
            result.Add(new VersionNeed(ReadString(file), file, versions));
            uint nextNeed = U32(Bytes, (int)at + 12);
            if (nextNeed == 0) break;
            at += nextNeed;
        }
        return result;
    }

    /// <summary>Sets the flags field of a <c>Vernaux</c> entry (found through <see cref="VersionNeeds"/>).</summary>
    public void SetVersionNeedFlags(VersionNeedAux aux, ushort flags) =>
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan((int)aux.EntryOffset + 4), flags);

    /// <summary>The version names this object defines (<c>.gnu.version_d</c>), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
    public IReadOnlyList<string> VersionDefinitions() => VersionDefinitionNameOffsets().Select(ReadString).ToList();

    IEnumerable<int> VersionDefinitionNameOffsets()
    {
        if (_verdef is not { } sec) yield break;
        long at = sec.Offset;
        for (int n = 0; n < Math.Max(sec.Info, 1) && at + 20 <= sec.Offset + sec.Size; n++)
        {
            int cnt = U16(Bytes, (int)at + 6);
            long aux = at + U32(Bytes, (int)at + 12);
            for (int a = 0; a < cnt; a++)
            {
                yield return (int)U32(Bytes, (int)aux);
                uint next = U32(Bytes, (int)aux + 4);
                if (next == 0) break;
                aux += next;
            }
            uint nextDef = U32(Bytes, (int)at + 16);
            if (nextDef == 0) break;
            at += nextDef;
        }
    }

    static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);

    readonly record struct Section(uint Type, long Offset, long Size, int Link, int Info);
}

/// <summary>One needed library of <c>.gnu.version_r</c> and the versions required of it.</summary>
public sealed record VersionNeed(string File, int FileNameOffset, IReadOnlyList<VersionNeedAux> Versions);

/// <summary>One required version (<c>Elf64_Vernaux</c>): <paramref name="Index"/> is what <c>.gnu.version</c> entries refer to.</summary>
public sealed record VersionNeedAux(long EntryOffset, string Name, int NameOffset, ushort Flags, ushort Index)
{
    public bool IsWeak => (Flags & ElfImage.VerFlagWeak) != 0;
}
