package io.edgefleet.engines.synth;

import com.google.flatbuffers.FlatBufferBuilder;
import io.edgefleet.protocols.manifest.Quantization;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small TensorFlow Lite models (schema v3 flatbuffers, file identifier {@code TFL3}) from
 * tensors, constant buffers and builtin operators, with field numbers from TFLite's
 * {@code schema.fbs}. Enough for FULLY_CONNECTED, SOFTMAX, ADD, MUL, DEQUANTIZE and friends, and
 * for RNN, whose hidden state is a variable tensor ({@link #variable}) that keeps its value from
 * one invocation to the next.
 */
public final class TfliteGraph {
    /** TFLite TensorType values. */
    public enum Type {
        FLOAT32(0), FLOAT16(1), INT32(2), UINT8(3), INT64(4), BOOL(6), INT16(7), INT8(9);

        final int code;

        Type(int code) {
            this.code = code;
        }
    }

    /** BuiltinOperator codes and the BuiltinOptions union member each uses (0 = none). */
    public enum Op {
        ADD(0, 11), DEQUANTIZE(6, 0), FULLY_CONNECTED(9, 8), LOGISTIC(14, 0), MUL(18, 21), RELU(19, 0),
        /** {@code h = act(W·x + R·h + b)}; inputs x, W, R, b and the variable h; RNNOptions, activation NONE. */
        RNN(24, 7),
        SOFTMAX(25, 9),
        /**
         * An LSTM over a sequence: 24 inputs in TFLite's order (input; input-, forget-, cell-, output-gate
         * weights; the same recurrent; three peepholes; four gate biases; projection weights and bias;
         * the variable output and cell state; four layer-norm coefficients), -1 for an absent optional one;
         * UnidirectionalSequenceLSTMOptions with activation TANH, batch-major.
         */
        UNIDIRECTIONAL_SEQUENCE_LSTM(44, 71),
        QUANTIZE(114, 0);

        final int code;
        final int optionsType;

        Op(int code, int optionsType) {
            this.code = code;
            this.optionsType = optionsType;
        }
    }

    private record TensorDef(String name, Type type, int[] shape, int[] signature, int buffer, Quantization q, boolean variable) {
    }

    private record OpDef(Op op, int[] inputs, int[] outputs) {
    }

    private final List<TensorDef> tensors = new ArrayList<>();
    private final List<byte[]> buffers = new ArrayList<>();
    private final List<OpDef> ops = new ArrayList<>();
    private int[] inputs = {};
    private int[] outputs = {};

    public TfliteGraph() {
        buffers.add(null); // buffer 0 is the empty buffer by convention
    }

    /** A runtime tensor (activation); a -1 in {@code shape} is dynamic (stored as 1, signature -1). */
    public int tensor(String name, Type type, int[] shape, Quantization quantization) {
        int[] concrete = shape.clone();
        for (int i = 0; i < concrete.length; i++) {
            concrete[i] = Math.max(concrete[i], 1);
        }
        tensors.add(new TensorDef(name, type, concrete, shape.clone(), 0, quantization, false));
        return tensors.size() - 1;
    }

    /**
     * A variable tensor (schema field {@code is_variable}): state an op such as RNN or
     * UNIDIRECTIONAL_SEQUENCE_LSTM reads and overwrites on every invocation, zero at the start.
     */
    public int variable(String name, Type type, int... shape) {
        tensors.add(new TensorDef(name, type, shape.clone(), shape.clone(), 0, null, true));
        return tensors.size() - 1;
    }

    public int tensor(String name, Type type, int... shape) {
        return tensor(name, type, shape, null);
    }

    /** A constant tensor holding {@code littleEndian} bytes. */
    public int constant(String name, Type type, int[] shape, byte[] littleEndian, Quantization quantization) {
        buffers.add(littleEndian.clone());
        tensors.add(new TensorDef(name, type, shape.clone(), shape.clone(), buffers.size() - 1, quantization, false));
        return tensors.size() - 1;
    }

    public TfliteGraph op(Op op, int[] in, int[] out) {
        ops.add(new OpDef(op, in.clone(), out.clone()));
        return this;
    }

    public TfliteGraph inputs(int... tensorIndexes) {
        this.inputs = tensorIndexes.clone();
        return this;
    }

    public TfliteGraph outputs(int... tensorIndexes) {
        this.outputs = tensorIndexes.clone();
        return this;
    }

    public byte[] toBytes() {
        FlatBufferBuilder b = new FlatBufferBuilder(1024);
        List<Op> opcodes = new ArrayList<>();
        for (OpDef o : ops) {
            if (!opcodes.contains(o.op())) {
                opcodes.add(o.op());
            }
        }
        // Buffers
        int[] bufferOffsets = new int[buffers.size()];
        for (int i = 0; i < buffers.size(); i++) {
            byte[] data = buffers.get(i);
            int dataVec = 0;
            if (data != null) {
                b.startVector(1, data.length, 16);
                for (int j = data.length - 1; j >= 0; j--) {
                    b.addByte(data[j]);
                }
                dataVec = b.endVector();
            }
            b.startTable(1);
            if (data != null) {
                b.addOffset(0, dataVec, 0);
            }
            bufferOffsets[i] = b.endTable();
        }
        // Tensors
        int[] tensorOffsets = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TensorDef t = tensors.get(i);
            int name = b.createString(t.name());
            int shape = intVector(b, t.shape());
            int signature = intVector(b, t.signature());
            int quant = 0;
            if (t.q() != null) {
                b.startVector(4, 1, 4);
                b.addFloat((float) t.q().scale());
                int scale = b.endVector();
                b.startVector(8, 1, 8);
                b.addLong(t.q().zeroPoint());
                int zp = b.endVector();
                b.startTable(7);
                b.addOffset(2, scale, 0);
                b.addOffset(3, zp, 0);
                quant = b.endTable();
            }
            b.startTable(8);
            b.addOffset(0, shape, 0);
            b.addByte(1, (byte) t.type().code, 0);
            b.addInt(2, t.buffer(), 0);
            b.addOffset(3, name, 0);
            if (quant != 0) {
                b.addOffset(4, quant, 0);
            }
            b.addBoolean(5, t.variable(), false);
            b.addOffset(7, signature, 0);
            tensorOffsets[i] = b.endTable();
        }
        // Operators
        int[] opOffsets = new int[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            OpDef o = ops.get(i);
            int in = intVector(b, o.inputs());
            int out = intVector(b, o.outputs());
            int options = 0;
            if (o.op().optionsType != 0) {
                if (o.op() == Op.SOFTMAX) {
                    b.startTable(1);
                    b.addFloat(0, 1.0f, 0.0f);
                    options = b.endTable();
                } else if (o.op() == Op.UNIDIRECTIONAL_SEQUENCE_LSTM) {
                    b.startTable(5);
                    b.addByte(0, (byte) 4, 0); // fused_activation_function TANH
                    options = b.endTable();
                } else {
                    b.startTable(1);
                    options = b.endTable();
                }
            }
            b.startTable(5);
            b.addInt(0, opcodes.indexOf(o.op()), -1);
            b.addOffset(1, in, 0);
            b.addOffset(2, out, 0);
            if (options != 0) {
                b.addByte(3, (byte) o.op().optionsType, 0);
                b.addOffset(4, options, 0);
            }
            opOffsets[i] = b.endTable();
        }
        int tensorsVec = offsetVector(b, tensorOffsets);
        int inputsVec = intVector(b, inputs);
        int outputsVec = intVector(b, outputs);
        int opsVec = offsetVector(b, opOffsets);
        int sgName = b.createString("main");
        b.startTable(5);
        b.addOffset(0, tensorsVec, 0);
        b.addOffset(1, inputsVec, 0);
        b.addOffset(2, outputsVec, 0);
        b.addOffset(3, opsVec, 0);
        b.addOffset(4, sgName, 0);
        int subgraph = b.endTable();
        int subgraphs = offsetVector(b, new int[] {subgraph});
        int[] opcodeOffsets = new int[opcodes.size()];
        for (int i = 0; i < opcodes.size(); i++) {
            Op op = opcodes.get(i);
            b.startTable(4);
            b.addByte(0, (byte) Math.min(op.code, 127), -1);
            b.addInt(2, 1, -1);
            b.addInt(3, op.code, -1);
            opcodeOffsets[i] = b.endTable();
        }
        int opcodesVec = offsetVector(b, opcodeOffsets);
        int buffersVec = offsetVector(b, bufferOffsets);
        int description = b.createString("edgefleet synthetic model");
        b.startTable(8);
        b.addInt(0, 3, 0);
        b.addOffset(1, opcodesVec, 0);
        b.addOffset(2, subgraphs, 0);
        b.addOffset(3, description, 0);
        b.addOffset(4, buffersVec, 0);
        int model = b.endTable();
        b.finish(model, "TFL3");
        return b.sizedByteArray();
    }

    private static int intVector(FlatBufferBuilder b, int[] values) {
        b.startVector(4, values.length, 4);
        for (int i = values.length - 1; i >= 0; i--) {
            b.addInt(values[i]);
        }
        return b.endVector();
    }

    private static int offsetVector(FlatBufferBuilder b, int[] offsets) {
        b.startVector(4, offsets.length, 4);
        for (int i = offsets.length - 1; i >= 0; i--) {
            b.addOffset(offsets[i]);
        }
        return b.endVector();
    }
}
