package io.edgefleet.engines.onnx;

import ai.onnxruntime.OnnxJavaType;
import io.edgefleet.protocols.oip.DataType;
import java.util.Optional;

/** v2 datatypes to the ONNX Runtime Java types that carry them. */
public final class OnnxTypes {
    private OnnxTypes() {
    }

    /** The ORT Java type for a v2 datatype; empty for types ORT's Java API cannot pass from a buffer. */
    public static Optional<OnnxJavaType> javaTypeOf(DataType t) {
        return switch (t) {
            case FP32 -> Optional.of(OnnxJavaType.FLOAT);
            case FP16 -> Optional.of(OnnxJavaType.FLOAT16);
            case BF16 -> Optional.of(OnnxJavaType.BFLOAT16);
            case FP64 -> Optional.of(OnnxJavaType.DOUBLE);
            case INT8 -> Optional.of(OnnxJavaType.INT8);
            case UINT8 -> Optional.of(OnnxJavaType.UINT8);
            case INT16 -> Optional.of(OnnxJavaType.INT16);
            case INT32 -> Optional.of(OnnxJavaType.INT32);
            case INT64 -> Optional.of(OnnxJavaType.INT64);
            case BOOL -> Optional.of(OnnxJavaType.BOOL);
            default -> Optional.empty();
        };
    }

    /** As {@link #javaTypeOf}, failing for unsupported types. */
    public static OnnxJavaType javaType(DataType t) {
        return javaTypeOf(t).orElseThrow(() -> new IllegalArgumentException("ONNX Runtime's Java API cannot pass " + t));
    }
}
