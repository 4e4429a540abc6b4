import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.RequestedOutput;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Writes the inputs of bench/json-throughput.sh into DIR: the dense model (SyntheticModels.denseOnnx,
 * y = Relu(x W + B), x [N,SIZE] FP32), a v2 JSON request for one row of random values
 * ({@code json.body}), the same request in the binary tensor extension with the output asked in
 * binary too ({@code binary.body}, its JSON header length in {@code binary.header-length}), both
 * written by the project's own codec. Prints the model's path.
 *
 * <p>Run: {@code java -cp 'simulator/target/lib/*' bench/V2Bodies.java DIR [SIZE]}.
 */
public final class V2Bodies {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        Path model = SyntheticModels.denseOnnx(dir, size);
        float[] x = new float[size];
        Random rnd = new Random(19);
        for (int i = 0; i < size; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
        }
        OipCodec codec = OipCodec.create();
        InferTensor in = new InferTensor("x", TensorData.ofFloats(new long[] {1, size}, x));
        Files.write(dir.resolve("json.body"), codec.encodeRequest(InferRequest.of(in), false).body());
        InferRequest binary = new InferRequest(Optional.empty(), Parameters.EMPTY, List.of(in),
                List.of(new RequestedOutput("y", Parameters.of(Parameters.BINARY_DATA, true))));
        Encoded e = codec.encodeRequest(binary, true);
        Files.write(dir.resolve("binary.body"), e.body());
        Files.writeString(dir.resolve("binary.header-length"), Integer.toString(e.headerLength().getAsInt()));
        System.out.println(model);
    }
}
