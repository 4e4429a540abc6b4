package io.edgefleet.engines.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.profiles.probe.TfliteNative;
import io.edgefleet.protocols.oip.InferTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.lite.Interpreter;

/**
 * The baseline of the benchmark: the runtime's own API called directly with inputs prepared once
 * (ORT tensors created once and reused, TFLite buffers allocated once), so what remains is the
 * native invoke. One runner per thread.
 */
interface RawRunner extends AutoCloseable {
    void invoke();

    @Override
    void close();

    static RawRunner onnx(Path file, List<InferTensor> inputs, int threads) {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            OrtSession s = env.createSession(file.toString(), o);
            Map<String, OnnxTensor> feed = new HashMap<>();
            for (InferTensor t : inputs) {
                feed.put(t.name(), OnnxTensor.createTensor(env, TensorBuffers.direct(t.data()), t.shape(),
                        io.edgefleet.engines.onnx.OnnxTypes.javaType(t.datatype())));
            }
            return new RawRunner() {
                @Override
                public void invoke() {
                    try (OrtSession.Result r = s.run(feed)) {
                        r.get(0);
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                }

                @Override
                public void close() {
                    feed.values().forEach(OnnxTensor::close);
                    try {
                        s.close();
                    } catch (OrtException e) {
                        // closing anyway
                    }
                    o.close();
                }
            };
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    static RawRunner tflite(Path file, List<InferTensor> inputs, int threads) {
        TfliteNative.load();
        Interpreter it = new Interpreter(file.toFile(), new Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true));
        for (int i = 0; i < inputs.size(); i++) {
            it.resizeInput(i, java.util.Arrays.stream(inputs.get(i).shape()).mapToInt(Math::toIntExact).toArray());
        }
        it.allocateTensors();
        Object[] in = new Object[inputs.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = TensorBuffers.direct(inputs.get(i).data());
        }
        Map<Integer, Object> out = new HashMap<>();
        List<ByteBuffer> outs = new ArrayList<>();
        for (int i = 0; i < it.getOutputTensorCount(); i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(it.getOutputTensor(i).numBytes()).order(ByteOrder.nativeOrder());
            outs.add(b);
            out.put(i, b);
        }
        return new RawRunner() {
            @Override
            public void invoke() {
                for (Object b : in) {
                    ((ByteBuffer) b).rewind();
                }
                outs.forEach(ByteBuffer::rewind);
                it.runForMultipleInputsOutputs(in, out);
            }

            @Override
            public void close() {
                it.close();
            }
        };
    }
}
