using System.Collections.Generic;

namespace Kiln.Compiler.Ops.Pointwise
{
    public static partial class UnaryOps
    {
        static Dictionary<string, UnaryOp>? _byName, _byMethod, _byModule;

        static Dictionary<string, UnaryOp> Index(System.Func<UnaryOp, string?> key)
        {
            var d = new Dictionary<string, UnaryOp>();
            foreach (var op in All)
                if (key(op) is { } k) d[k] = op;
            return d;
        }

        /// <summary>The op PyTorch calls <paramref name="name"/>, or null.</summary>
        public static UnaryOp? Find(string name) => (_byName ??= Index(o => o.Name)).TryGetValue(name, out var op) ? op : null;

        /// <summary>The op whose Tensor method or F function is <paramref name="method"/> (.NET name), or null.</summary>
        public static UnaryOp? FindMethod(string method) => (_byMethod ??= Index(o => o.Method)).TryGetValue(method, out var op) ? op : null;

        /// <summary>The op whose generated <c>nn</c> module is <paramref name="module"/>, or null.</summary>
        public static UnaryOp? FindModule(string module) => (_byModule ??= Index(o => o.Module)).TryGetValue(module, out var op) ? op : null;
    }
}
