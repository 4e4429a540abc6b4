package io.edgefleet.protocols.manifest;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgefleet.protocols.ProtocolException;

/** Hardware that runs models besides the CPU. Wire names never change. */
public enum Accelerator {
    /** An NVIDIA GPU reachable through CUDA (Jetson, data-centre GPUs). */
    CUDA_GPU("cuda-gpu"),
    /** A Google Coral Edge TPU. */
    EDGE_TPU("edge-tpu"),
    /** A vendor neural processing unit (Rockchip, NXP i.MX 8M Plus, Hailo...). */
    NPU("npu"),
    /** A GPU reachable through OpenCL/Vulkan delegates (Mali, Adreno, VideoCore). */
    MOBILE_GPU("mobile-gpu");

    private final String wire;

    Accelerator(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Parses a wire name; the error path is {@code $}, to be prefixed by the caller's location. */
    @JsonCreator
    public static Accelerator fromWire(String wire) {
        for (Accelerator a : values()) {
            if (a.wire.equals(wire)) {
                return a;
            }
        }
        throw new ProtocolException("$", "'" + wire + "' is not one of cuda-gpu, edge-tpu, npu, mobile-gpu");
    }
}
