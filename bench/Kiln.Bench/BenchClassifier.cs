using Kiln;
using Kiln.NN;

/// <summary>The seed's classifier as a [Model]: the generator gives it Compile() with fused kernels.</summary>
[Model]
sealed partial class BenchClassifier : Module
{
    readonly Linear layer1 = new(784, 128), layer2 = new(128, 10);
    readonly Dropout dropout = new(0.2);
    public Tensor Forward([Shape("N 784")] Tensor x) => layer2.Forward(dropout.Forward(F.Relu(layer1.Forward(x))));
}

/// <summary>A LeNet-style CNN as a [Model] (the second compiled benchmark).</summary>
[Model]
sealed partial class BenchLeNet : Module
{
    readonly Conv2d conv1 = new(1, 6, 5, padding: 2), conv2 = new(6, 16, 5);
    readonly MaxPool2d pool = new(2);
    readonly Linear fc1 = new(16 * 5 * 5, 120), fc2 = new(120, 84), fc3 = new(84, 10);
    public Tensor Forward([Shape("N 1 28 28")] Tensor x)
    {
        x = pool.Forward(F.Relu(conv1.Forward(x)));
        x = pool.Forward(F.Relu(conv2.Forward(x)));
        x = x.Flatten(1);
        return fc3.Forward(F.Relu(fc2.Forward(F.Relu(fc1.Forward(x)))));
    }
}

/// <summary>One Transformer encoder layer as a [Model] (d 256, 4 heads, PyTorch's defaults otherwise; the third compiled benchmark).</summary>
[Model]
sealed partial class BenchEncoder : Module
{
    readonly TransformerEncoderLayer layer = new(256, 4, batchFirst: true);
    public Tensor Forward([Shape("N L 256")] Tensor x) => layer.Forward(x);
}

/// <summary>A CIFAR-shaped CNN (issue 20): two conv 3x3 pad 1 + BatchNorm + ReLU + max-pool stages, then 4096-128-10.</summary>
[Model]
sealed partial class BenchCifarCnn : Module
{
    readonly Conv2d conv1 = new(3, 32, 3, padding: 1), conv2 = new(32, 64, 3, padding: 1);
    readonly BatchNorm2d bn1 = new(32), bn2 = new(64);
    readonly MaxPool2d pool = new(2);
    readonly Linear fc1 = new(64 * 8 * 8, 128), fc2 = new(128, 10);
    public Tensor Forward([Shape("N 3 32 32")] Tensor x)
    {
        x = pool.Forward(F.Relu(bn1.Forward(conv1.Forward(x))));
        x = pool.Forward(F.Relu(bn2.Forward(conv2.Forward(x))));
        return fc2.Forward(F.Relu(fc1.Forward(x.Flatten(1))));
    }
}

/// <summary>A ResNet-18 basic block at CIFAR size (64 channels, stride 1): conv-BN-ReLU-conv-BN, the input added, ReLU.</summary>
[Model]
sealed partial class BenchResBlock : Module
{
    readonly Conv2d conv1 = new(64, 64, 3, padding: 1, bias: false), conv2 = new(64, 64, 3, padding: 1, bias: false);
    readonly BatchNorm2d bn1 = new(64), bn2 = new(64);
    public Tensor Forward([Shape("N 64 32 32")] Tensor x) => F.Relu(bn2.Forward(conv2.Forward(F.Relu(bn1.Forward(conv1.Forward(x))))) + x);
}

/// <summary>
/// Three 1024-wide Linear layers (ReLU, GELU, plain) as a [Model] for LoRA fine-tuning: r 16 on every layer, the base
/// frozen. Fields are not readonly so GetPeftModel can put its LoRA layers in their place.
/// </summary>
[Model]
sealed partial class BenchLoraMlp : Module
{
    Linear fc1 = new(1024, 1024), fc2 = new(1024, 1024), fc3 = new(1024, 1024);
    public Tensor Forward([Shape("N 1024")] Tensor x) => fc3.Forward(F.Gelu(fc2.Forward(F.Relu(fc1.Forward(x)))));
}
