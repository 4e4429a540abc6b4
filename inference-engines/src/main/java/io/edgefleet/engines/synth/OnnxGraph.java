package io.edgefleet.engines.synth;

import io.edgefleet.protocols.oip.DataType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes small ONNX models (ModelProto, IR version 8, opset 17) from nodes and known weights,
 * with no ONNX library: tests, the demo and the benchmark build their models with it, so a
 * fresh clone needs no model files. Only what those models need is supported: tensor inputs
 * and outputs with fixed or named dynamic dimensions, raw-data initializers, nodes with int,
 * float and int-list attributes.
 */
public final class OnnxGraph {
    private final String name;
    private final Protobuf graph = new Protobuf();
    private int opset = 17;

    private OnnxGraph(String name) {
        this.name = name;
    }

    public static OnnxGraph create(String name) {
        return new OnnxGraph(name);
    }

    /** ONNX element type numbers (TensorProto.DataType). */
    static int onnxType(DataType t) {
        return switch (t) {
            case FP32 -> 1;
            case UINT8 -> 2;
            case INT8 -> 3;
            case UINT16 -> 4;
            case INT16 -> 5;
            case INT32 -> 6;
            case INT64 -> 7;
            case BYTES -> 8;
            case BOOL -> 9;
            case FP16 -> 10;
            case FP64 -> 11;
            case UINT32 -> 12;
            case UINT64 -> 13;
            case BF16 -> 16;
        };
    }

    public OnnxGraph opset(int version) {
        this.opset = version;
        return this;
    }

    /** A graph input; a negative dimension becomes a named dynamic one ({@code N}, {@code N1}...). */
    public OnnxGraph input(String tensor, DataType type, long... shape) {
        graph.message(11, valueInfo(tensor, type, shape));
        return this;
    }

    public OnnxGraph output(String tensor, DataType type, long... shape) {
        graph.message(12, valueInfo(tensor, type, shape));
        return this;
    }

    /** A constant tensor from little-endian bytes. */
    public OnnxGraph initializer(String tensor, DataType type, long[] shape, byte[] littleEndian) {
        Protobuf t = new Protobuf();
        for (long d : shape) {
            t.varint(1, d);
        }
        t.varint(2, onnxType(type)).string(8, tensor).bytes(9, littleEndian);
        graph.message(5, t);
        return this;
    }

    /** A node; attribute values may be Long/Integer (INT), Float/Double (FLOAT) or long[] (INTS). */
    public OnnxGraph node(String opType, List<String> inputs, List<String> outputs, Map<String, Object> attributes) {
        Protobuf n = new Protobuf();
        inputs.forEach(i -> n.string(1, i));
        outputs.forEach(o -> n.string(2, o));
        n.string(3, opType + "_" + outputs.get(0)).string(4, opType);
        for (Map.Entry<String, Object> a : new LinkedHashMap<>(attributes).entrySet()) {
            Protobuf attr = new Protobuf().string(1, a.getKey());
            switch (a.getValue()) {
                case Integer i -> attr.varint(3, i).varint(20, 2);
                case Long l -> attr.varint(3, l).varint(20, 2);
                case Float f -> attr.fixed32(2, Float.floatToIntBits(f)).varint(20, 1);
                case Double d -> attr.fixed32(2, Float.floatToIntBits(d.floatValue())).varint(20, 1);
                case long[] ls -> {
                    for (long l : ls) {
                        attr.varint(8, l);
                    }
                    attr.varint(20, 7);
                }
                default -> throw new IllegalArgumentException("unsupported attribute " + a.getKey());
            }
            n.message(5, attr);
        }
        graph.message(1, n);
        return this;
    }

    public OnnxGraph node(String opType, List<String> inputs, List<String> outputs) {
        return node(opType, inputs, outputs, Map.of());
    }

    /** The serialised ModelProto. */
    public byte[] toBytes() {
        Protobuf g = new Protobuf();
        g.string(2, name);
        byte[] body = graph.toBytes();
        Protobuf model = new Protobuf()
                .varint(1, 8)
                .string(2, "edgefleet-synth")
                .string(3, "0.1");
        byte[] head = model.toBytes();
        // GraphProto = name + accumulated fields (order of fields does not matter in protobuf).
        byte[] graphBytes = concat(g.toBytes(), body);
        Protobuf tail = new Protobuf().bytes(7, graphBytes).message(8, new Protobuf().string(1, "").varint(2, opset));
        return concat(head, tail.toBytes());
    }

    private static Protobuf valueInfo(String tensor, DataType type, long[] shape) {
        Protobuf dims = new Protobuf();
        List<String> names = new ArrayList<>();
        for (long d : shape) {
            Protobuf dim = new Protobuf();
            if (d < 0) {
                String p = names.isEmpty() ? "N" : "N" + names.size();
                names.add(p);
                dim.string(2, p);
            } else {
                dim.varint(1, d);
            }
            dims.message(1, dim);
        }
        Protobuf tensorType = new Protobuf().varint(1, onnxType(type)).message(2, dims);
        return new Protobuf().string(1, tensor).message(2, new Protobuf().message(1, tensorType));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
