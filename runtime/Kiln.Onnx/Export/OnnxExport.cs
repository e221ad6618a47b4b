using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;
using Kiln.NN;
using Onnx;

namespace Kiln.Onnx.Export;

/// <summary>How <see cref="OnnxExport"/> writes a model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Graph input names (default <c>input</c>, or <c>input_0</c>, <c>input_1</c>, ...).</summary>
    public IReadOnlyList<string>? InputNames { get; init; }
    /// <summary>The graph output's name.</summary>
    public string OutputName { get; init; } = "output";
    /// <summary>Whether dim 0 of inputs and output is a named, free batch axis (<c>batch</c>) instead of the example's size.</summary>
    public bool DynamicBatch { get; init; } = true;
    /// <summary>The default-domain opset written (17 or later).</summary>
    public int Opset { get; init; } = 17;
}

/// <summary>
/// Exports a Kiln model to ONNX by tracing (as <c>torch.onnx.export</c>): the forward runs once on example inputs in
/// eval mode, Kiln's autograd records every operation with its arguments, and each recorded op becomes ONNX nodes
/// (<see cref="ExportOps"/>); parameters and buffers become initializers under their state-dict names, other values the
/// forward created become constants. Control flow is frozen at the example's path. An op with no ONNX form is an error
/// naming it; the file is written whole or not at all.
/// </summary>
public static class OnnxExport
{
    /// <summary>Exports <paramref name="model"/>'s <c>Forward(x)</c> at example input <paramref name="example"/> to <paramref name="path"/>.</summary>
    public static void Export(Module<Tensor, Tensor> model, Tensor example, string path, OnnxExportOptions? options = null) =>
        Export(model, inputs => model.Forward(inputs[0]), [example], path, options);

    /// <summary>
    /// Exports <paramref name="forward"/> (reading <paramref name="model"/>'s parameters) at <paramref name="examples"/>
    /// to <paramref name="path"/>.
    /// </summary>
    public static void Export(Module model, Func<Tensor[], Tensor> forward, Tensor[] examples, string path, OnnxExportOptions? options = null)
    {
        var proto = Trace(model, forward, examples, options ?? new OnnxExportOptions());
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var s = File.Create(temp)) proto.WriteTo(s);
            File.Move(temp, path, overwrite: true);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
    }

    /// <summary>The ONNX model of <paramref name="forward"/> at <paramref name="examples"/>, in memory.</summary>
    public static ModelProto Trace(Module model, Func<Tensor[], Tensor> forward, Tensor[] examples, OnnxExportOptions options)
    {
        if (options.Opset < 17) throw new KilnException("onnx export", $"onnx export: opset {options.Opset} is too old (17 or later)", KilnErrorKind.Argument);
        if (examples.Length == 0) throw new KilnException("onnx export", "onnx export: at least one example input is needed", KilnErrorKind.Argument);
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            var writer = new OnnxGraphWriter();
            var known = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
            var traced = new Tensor[examples.Length];
            string? batch = options.DynamicBatch ? "batch" : null;
            for (int i = 0; i < examples.Length; i++)
            {
                string name = options.InputNames is { } names && i < names.Count ? names[i] : examples.Length == 1 ? "input" : $"input_{i}";
                traced[i] = examples[i].Detach().Clone();
                if (traced[i].DType.IsFloatingPoint()) traced[i].RequiresGrad_();
                else traced[i].TraceInput = true;   // integer ids: what the forward computes from them is recorded too
                known[traced[i]] = name;
                writer.Graph.Input.Add(OnnxGraphWriter.ValueInfo(name, traced[i].DType, Dims(traced[i]), traced[i].Dim > 0 ? batch : null));
            }
            var parameters = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
            foreach (var (name, p) in model.NamedParameters()) parameters.TryAdd(p, name);
            foreach (var (name, b) in model.NamedBuffers()) parameters.TryAdd(b, name);

            Tensor output;
            using (Autograd.EnableGrad())
            using (GradMode.BeginTracing())
                output = forward(traced);
            var root = output.GradFn ?? throw new KilnException("onnx export", "onnx export: the forward recorded no operation on its inputs (nothing to export)", KilnErrorKind.Argument);

            var ctx = new ExportContext(writer, known, parameters, batch is not null, examples[0].Dim > 0 ? examples[0].Size(0) : -1);
            string last = ctx.Emit(root);
            writer.Node("Identity", [last], output: options.OutputName);
            writer.Graph.Output.Add(OnnxGraphWriter.ValueInfo(options.OutputName, output.DType, Dims(output), output.Dim > 0 ? batch : null));
            writer.Graph.Name = model.GetType().Name;

            var proto = new ModelProto { IrVersion = 8, ProducerName = "Kiln", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "", Graph = writer.Graph };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
            return proto;
        }
        finally { model.Train(wasTraining); }
    }

    static int[] Dims(Tensor t)
    {
        var d = new int[t.Dim];
        for (int i = 0; i < d.Length; i++) d[i] = t.Size(i);
        return d;
    }
}
