import io.edgefleet.engines.synth.SyntheticModels;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;

/**
 * The same v2 inference request to a real agent process over HTTP JSON, CoAP JSON and CoAP CBOR (RFC 8746
 * typed arrays), one request at a time (concurrency 1), from this JVM (the load generator) to two agent
 * JVMs it starts: one with the CoAP defaults (1024-byte datagrams and blocks: the request goes block-wise)
 * and one with {@code agent.coap.max-message-bytes: 4096} (a LAN or loopback setting: one datagram each
 * way). Scenarios run in turn, ROUNDS times, so machine noise spreads over all of them; prints p50, p99
 * (microseconds), requests/s and the ratios against HTTP JSON measured in the same run, with the load
 * average before and after.
 *
 * <p>Clients: HTTP over a raw keep-alive socket (as bench/HttpLoad.java); CoAP single-datagram over a raw
 * UDP socket (one CON request, its piggybacked answer: the least a CoAP client can do, as the raw HTTP
 * client is for HTTP); CoAP block-wise through Californium's CoapClient on a persistent endpoint.
 *
 * <p>Run after {@code ./mvnw -B -o verify -pl simulator -am -DskipTests -P'!deb'}:
 * {@code java -cp "simulator/target/simulator.jar:simulator/target/lib/*" bench/CoapVsHttp.java [SECONDS_PER_ROUND] [ROUNDS] [WIDTH]}
 * (defaults 3, 3, 256: a dense 256x256 ONNX model, a 2.5 KB JSON request).
 */
public final class CoapVsHttp {
    interface Call {
        boolean once() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int width = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        Path tmp = Files.createTempDirectory("coap-vs-http");
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.move(SyntheticModels.denseOnnx(tmp, width), models.resolve("dense.onnx"));
        Files.writeString(tmp.resolve("lan.yaml"), "agent:\n  coap:\n    max-message-bytes: 4096\n");
        Files.writeString(tmp.resolve("plain.yaml"), "agent:\n  coap:\n    port: 0\n");
        List<Process> agents = new ArrayList<>();
        try {
            int[] plain = start(agents, tmp, "plain");
            int[] lan = start(agents, tmp, "lan");
            float[] x = new float[width];
            for (int i = 0; i < width; i++) {
                x[i] = (i % 17) * 0.123456789f - 1;
            }
            byte[] json = json(x);
            byte[] cbor = cbor(x);
            System.out.printf(Locale.ROOT, "model dense%d (ONNX), request %d bytes JSON, %d bytes CBOR; %d rounds of %.1f s per scenario, concurrency 1%n",
                    width, json.length, cbor.length, rounds, seconds);
            System.out.println("loadavg before: " + Files.readString(Path.of("/proc/loadavg")).trim());

            CoapConfig.register();
            UdpConfig.register();
            Map<String, Call> scenarios = new LinkedHashMap<>();
            scenarios.put("HTTP JSON", http(lan[0], json));
            scenarios.put("CoAP JSON, 1 datagram (max-message-bytes 4096)", rawCoap(lan[1], json, 50));
            scenarios.put("CoAP CBOR, 1 datagram (max-message-bytes 4096)", rawCoap(lan[1], cbor, 60));
            scenarios.put("CoAP JSON, Californium client, 4096", californium(lan[1], json, 50, 4096));
            scenarios.put("CoAP CBOR, Californium client, 4096", californium(lan[1], cbor, 60, 4096));
            scenarios.put("CoAP JSON, Californium client, defaults (block-wise)", californium(plain[1], json, 50, 1024));
            scenarios.put("CoAP CBOR, Californium client, defaults (block-wise)", californium(plain[1], cbor, 60, 1024));
            Map<String, List<Long>> latencies = new LinkedHashMap<>();
            Map<String, double[]> time = new LinkedHashMap<>();
            for (String s : scenarios.keySet()) {
                latencies.put(s, new ArrayList<>());
                time.put(s, new double[1]);
            }
            for (Map.Entry<String, Call> e : scenarios.entrySet()) { // warm-up: JIT on both sides
                run(e.getValue(), 1.5, new ArrayList<>());
            }
            for (int r = 0; r < rounds; r++) {
                for (Map.Entry<String, Call> e : scenarios.entrySet()) {
                    time.get(e.getKey())[0] += run(e.getValue(), seconds, latencies.get(e.getKey()));
                }
            }
            System.out.println("loadavg after:  " + Files.readString(Path.of("/proc/loadavg")).trim());
            double[] base = null;
            System.out.printf(Locale.ROOT, "%-54s %9s %9s %9s %12s %12s%n", "scenario", "p50 µs", "p99 µs", "req/s", "p50 vs HTTP", "req/s vs HTTP");
            for (String s : scenarios.keySet()) {
                long[] l = latencies.get(s).stream().mapToLong(Long::longValue).sorted().toArray();
                double p50 = l[l.length / 2] / 1e3;
                double p99 = l[(int) (l.length * 0.99)] / 1e3;
                double rps = l.length / time.get(s)[0];
                if (base == null) {
                    base = new double[] {p50, rps};
                }
                System.out.printf(Locale.ROOT, "%-54s %9.0f %9.0f %9.0f %11.2fx %11.2fx%n", s, p50, p99, rps, p50 / base[0], rps / base[1]);
            }
        } finally {
            for (Process p : agents) {
                p.destroy();
                p.waitFor();
            }
        }
        System.exit(0);
    }

    /** Starts an agent process on free ports; returns {HTTP port, CoAP port}. */
    static int[] start(List<Process> agents, Path tmp, String name) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:MaxRAMPercentage=50", "-cp", System.getProperty("java.class.path"), "io.edgefleet.cli.Main", "agent",
                "--config", tmp.resolve(name + ".yaml").toString(), "--data-dir", tmp.resolve(name).toString(),
                "--models-dir", tmp.resolve("models").toString(), "--http-port", "0", "--coap-port", "0"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        agents.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Pattern ready = Pattern.compile("ready: http://[^:]+:(\\d+)/v2, coap://[^:]+:(\\d+)");
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            Matcher m = ready.matcher(line);
            if (m.find()) {
                Thread.ofPlatform().daemon().start(() -> out.lines().forEach(l -> { })); // keep draining its output
                return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
            }
        }
        throw new IllegalStateException("agent " + name + " exited with " + p.waitFor());
    }

    /** Closed loop for {@code seconds}; adds each latency (ns); returns the seconds measured. */
    static double run(Call c, double seconds, List<Long> into) throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        long now = t0;
        while (now < end) {
            long s = System.nanoTime();
            if (!c.once()) {
                throw new IllegalStateException("a request failed");
            }
            now = System.nanoTime();
            into.add(now - s);
        }
        return (now - t0) / 1e9;
    }

    static byte[] json(float[] x) {
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[1," + x.length + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < x.length; i++) {
            sb.append(i == 0 ? "" : ",").append(x[i]);
        }
        return sb.append("]}]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    static byte[] cbor(float[] x) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) {
            b.putFloat(v);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var g = new com.fasterxml.jackson.dataformat.cbor.CBORFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            g.writeStartObject();
            g.writeStringField("name", "x");
            g.writeArrayFieldStart("shape");
            g.writeNumber(1);
            g.writeNumber(x.length);
            g.writeEndArray();
            g.writeStringField("datatype", "FP32");
            g.writeFieldName("data");
            g.writeTag(85); // RFC 8746: float32 little-endian typed array
            g.writeBinary(b.array());
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    static Call http(int port, byte[] body) throws IOException {
        byte[] head = ("POST /v2/models/dense/infer HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        InputStream in = new BufferedInputStream(s.getInputStream(), 16384);
        return () -> {
            out.write(request);
            out.flush();
            String status = line(in);
            long length = 0;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                    length = Long.parseLong(h.substring(colon + 1).trim());
                }
            }
            in.readNBytes((int) length);
            return status.startsWith("HTTP/1.1 200");
        };
    }

    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /**
     * One CON request per call in one datagram, serialised once by Californium with a 4-byte token; each call
     * patches the message id (bytes 2-3) and the token (bytes 4-7), waits for the answer with that token (a
     * separate CON answer is acknowledged) and checks its code is 2.05.
     */
    static Call rawCoap(int port, byte[] body, int format) throws IOException {
        InetSocketAddress agent = new InetSocketAddress("127.0.0.1", port);
        Request r = Request.newPost();
        r.setMID(1);
        r.setToken(Token.fromProvider(new byte[] {0, 0, 0, 1}));
        r.setURI("coap://127.0.0.1:" + port + "/infer/dense");
        r.getOptions().setContentFormat(format);
        r.setPayload(body);
        r.setDestinationContext(new AddressEndpointContext(agent));
        byte[] datagram = new UdpDataSerializer().serializeRequest(r).getBytes();
        DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        s.setSoTimeout(10_000);
        DatagramPacket out = new DatagramPacket(datagram, datagram.length, agent);
        DatagramPacket in = new DatagramPacket(new byte[65_535], 65_535);
        int[] id = {1};
        return () -> {
            int n = ++id[0];
            datagram[2] = (byte) (n >> 8);
            datagram[3] = (byte) n;
            datagram[4] = (byte) (n >> 24);
            datagram[5] = (byte) (n >> 16);
            datagram[6] = (byte) (n >> 8);
            datagram[7] = (byte) n;
            s.send(out);
            while (true) {
                in.setLength(65_535);
                s.receive(in);
                byte[] d = in.getData();
                int tkl = d[0] & 0x0f;
                int type = (d[0] >> 4) & 0x03;
                if (type == 0) { // a separate CON answer: acknowledge it
                    byte[] ack = {(byte) 0x60, 0, d[2], d[3]};
                    s.send(new DatagramPacket(ack, 4, agent));
                }
                if (tkl == 4 && d[1] != 0 && d[4] == datagram[4] && d[5] == datagram[5] && d[6] == datagram[6] && d[7] == datagram[7]) {
                    return (d[1] & 0xff) == ((2 << 5) | 5);
                }
            }
        };
    }

    static Call californium(int port, byte[] body, int format, int maxMessageBytes) {
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(CoapConfig.MAX_MESSAGE_SIZE, maxMessageBytes);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 1024);
        c.set(UdpConfig.UDP_DATAGRAM_SIZE, maxMessageBytes + 256);
        CoapClient client = new CoapClient("coap://127.0.0.1:" + port + "/infer/dense");
        client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(c).build());
        client.setTimeout(10_000L);
        return () -> {
            CoapResponse r = client.post(body, format);
            return r != null && r.getCode() == CoAP.ResponseCode.CONTENT;
        };
    }
}
