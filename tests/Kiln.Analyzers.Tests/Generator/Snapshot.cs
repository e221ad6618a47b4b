using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace Kiln.Analyzers.Tests.Generation;

/// <summary>
/// Compares generated text with a committed <c>Snapshots/NAME.verified.cs</c>. On a difference it writes
/// <c>NAME.received.cs</c> beside it and fails; with KILN_ACCEPT_SNAPSHOTS=1 it writes the verified file instead.
/// </summary>
public static class Snapshot
{
    public static void Verify(string name, string actual, [CallerFilePath] string caller = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(caller))!, "Snapshots");
        string verified = Path.Combine(dir, name + ".verified.cs"), received = Path.Combine(dir, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("KILN_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        string expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : "";
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.Fail($"generated code for {name} differs from {verified}; see {received} (KILN_ACCEPT_SNAPSHOTS=1 accepts it)");
    }
}
