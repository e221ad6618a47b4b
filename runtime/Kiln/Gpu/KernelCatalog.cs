using System;
using System.Collections.Generic;
using System.Reflection;
using System.Reflection.Emit;
using System.Security.Cryptography;
using System.Text;

namespace Kiln.Gpu;

/// <summary>One GPU kernel instantiation: a <see cref="GpuKernelAttribute"/> method closed over its type arguments.</summary>
/// <param name="Name">Stable name: declaring type, method and type arguments.</param>
/// <param name="Method">The closed kernel method.</param>
/// <param name="ExplicitlyGrouped">True when launched with a KernelConfig (no index parameter).</param>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed record KernelEntry(string Name, MethodInfo Method, bool ExplicitlyGrouped);

/// <summary>
/// Finds the GPU kernels of an assembly and fingerprints them. The fingerprint hashes the IL of the kernel, of every method
/// it calls in non-framework assemblies (transitively) and of its type arguments' methods, so editing a helper a kernel
/// calls makes its precompiled PTX stale.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class KernelCatalog
{
    /// <summary>Every kernel instantiation declared in <paramref name="assembly"/>, in a stable order.</summary>
    public static IReadOnlyList<KernelEntry> Find(Assembly assembly)
    {
        var result = new List<KernelEntry>();
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = Array.FindAll(e.Types, t => t is not null)!; }
        foreach (var type in types)
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                foreach (var attribute in method.GetCustomAttributes<GpuKernelAttribute>())
                {
                    var closed = method.IsGenericMethodDefinition ? method.MakeGenericMethod(attribute.TypeArguments) : method;
                    result.Add(new KernelEntry(NameOf(closed), closed, IsExplicitlyGrouped(closed)));
                }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>The kernel's stable name, e.g. <c>Kiln.Gpu.Kernels.ElementwiseKernels.Unary&lt;Single,F32&gt;</c>.</summary>
    public static string NameOf(MethodInfo method)
    {
        var sb = new StringBuilder(method.DeclaringType!.FullName).Append('.').Append(method.Name);
        if (method.IsGenericMethod)
        {
            sb.Append('<');
            var args = method.GetGenericArguments();
            for (int i = 0; i < args.Length; i++) sb.Append(i == 0 ? "" : ",").Append(args[i].Name);
            sb.Append('>');
        }
        return sb.ToString();
    }

    /// <summary>Implicitly grouped kernels take an ILGPU index first.</summary>
    public static bool IsExplicitlyGrouped(MethodInfo method)
    {
        var p = method.GetParameters();
        return p.Length == 0 || !p[0].ParameterType.Namespace!.StartsWith("ILGPU", StringComparison.Ordinal) || !p[0].ParameterType.Name.Contains("Index", StringComparison.Ordinal);
    }

    /// <summary>Hex SHA-256 over the IL the kernel depends on, plus <paramref name="salt"/> (compiler version and target).</summary>
    public static string Fingerprint(MethodInfo method, string salt)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(salt));
        var seen = new HashSet<MethodBase>();
        var pending = new Stack<MethodBase>();
        pending.Push(method);
        if (method.IsGenericMethod)
            foreach (var arg in method.GetGenericArguments())
                if (!IsFramework(arg.Assembly))
                    foreach (var m in arg.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                        pending.Push(m);
        while (pending.Count > 0)
        {
            var m = pending.Pop();
            if (!seen.Add(m)) continue;
            hash.AppendData(Encoding.UTF8.GetBytes(m.DeclaringType?.FullName + "::" + m));
            byte[]? il = m.GetMethodBody()?.GetILAsByteArray();
            if (il is null) continue;
            hash.AppendData(il);
            foreach (var callee in Callees(m, il))
                if (!IsFramework(callee.Module.Assembly)) pending.Push(callee);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    static bool IsFramework(Assembly a)
    {
        var name = a.GetName().Name ?? "";
        return name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("ILGPU", StringComparison.Ordinal)
            || name is "mscorlib" or "netstandard";
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = BuildOpCodes();

    static Dictionary<short, OpCode> BuildOpCodes()
    {
        var d = new Dictionary<short, OpCode>();
        foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            if (f.GetValue(null) is OpCode op) d[op.Value] = op;
        return d;
    }

    /// <summary>The methods an IL body references (calls, newobj, ldftn).</summary>
    static IEnumerable<MethodBase> Callees(MethodBase m, byte[] il)
    {
        var found = new List<MethodBase>();
        Type[]? typeArgs = m.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        Type[]? methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[i + 1]) : il[i];
            if (!OpCodesByValue.TryGetValue(value, out var op)) break;
            i += op.Size;
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType == OperandType.InlineMethod)
            {
                try
                {
                    if (m.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs) is { } callee) found.Add(callee);
                }
                catch (ArgumentException) { }
            }
            i += operand;
        }
        return found;
    }
}
