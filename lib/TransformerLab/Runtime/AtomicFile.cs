using System.Runtime.InteropServices;

namespace TransformerLab.Runtime;

/// <summary>
/// Writes a file under a temporary name beside it, flushes it to disk, renames it over the target and flushes the
/// folder: when it returns the new content is durable, and a crash or a full disk at any point leaves the previous file
/// whole (a reader sees the old file or the new one, never a part).
/// </summary>
// One source, two assemblies: public in the library (every writer of a run folder uses it), internal in NativeFix, which
// patches native files before the library exists and must not depend on it (NativeFix.csproj compiles this file too).
#if NATIVEFIX
internal
#else
public
#endif
static class AtomicFile
{
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(path)) File.SetUnixFileMode(tmp, File.GetUnixFileMode(path));
            File.Move(tmp, path, overwrite: true);
            SyncFolder(folder);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>fsync on the folder, so the rename itself survives a power loss (POSIX; Windows has no folder handle to flush).</summary>
    static void SyncFolder(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = open(folder, 0); // O_RDONLY: enough to fsync a directory
        if (fd < 0) return;       // a file system that cannot open folders: the rename is all it offers
        try { _ = fsync(fd); }
        finally { _ = close(fd); }
    }

    [DllImport("libc", SetLastError = true)] static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    [DllImport("libc", SetLastError = true)] static extern int fsync(int fd);
    [DllImport("libc")] static extern int close(int fd);
}
