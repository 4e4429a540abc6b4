package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.CloudSettings;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.Role;
import io.edgefleet.cloud.client.CloudClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The control plane's commands: {@code cloud}, {@code model push}, {@code devices list}, {@code telemetry}. */
final class CloudCommands {
    private CloudCommands() {
    }

    /**
     * Where the API is, which CA to trust and which token to use: --server / EDGEFLEET_SERVER,
     * --ca / EDGEFLEET_CA (default cloud-data/pki/ca.pem when present), --token / --token-file / EDGEFLEET_TOKEN.
     */
    static final class Server {
        /** The embedded control plane's CA certificate, relative to the working directory. */
        static final Path DEFAULT_CA = Path.of("cloud-data", "pki", "ca.pem");

        @Option(names = "--server", paramLabel = "URL", description = "Control plane (default $EDGEFLEET_SERVER or https://127.0.0.1:8080).")
        String server;
        @Option(names = "--ca", paramLabel = "FILE", description = {"CA certificate (PEM) to trust for https (default $EDGEFLEET_CA,",
                "or cloud-data/pki/ca.pem when it exists, else the JDK's trust store)."})
        Path ca;
        @Option(names = "--token", paramLabel = "TOKEN", description = "API bearer token (default $EDGEFLEET_TOKEN).")
        String token;
        @Option(names = "--token-file", paramLabel = "FILE", description = "Read the token from a file, e.g. cloud-data/tokens/operator.token.")
        Path tokenFile;

        CloudClient client() {
            String url = server != null ? server : Optional.ofNullable(System.getenv("EDGEFLEET_SERVER")).orElse("https://127.0.0.1:8080");
            Optional<String> t = Optional.ofNullable(token);
            if (t.isEmpty() && tokenFile != null) {
                try {
                    t = Optional.of(Files.readString(tokenFile).strip());
                } catch (IOException e) {
                    throw new IllegalArgumentException("cannot read token file " + tokenFile + ": " + e.getMessage());
                }
            }
            if (t.isEmpty()) {
                t = Optional.ofNullable(System.getenv("EDGEFLEET_TOKEN"));
            }
            return new CloudClient(URI.create(url), t, trust());
        }

        private Optional<javax.net.ssl.SSLContext> trust() {
            Path file = ca != null ? ca : Optional.ofNullable(System.getenv("EDGEFLEET_CA")).map(Path::of)
                    .orElse(Files.exists(DEFAULT_CA) ? DEFAULT_CA : null);
            if (file == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(CloudClient.trusting(file));
            } catch (java.io.UncheckedIOException e) {
                throw new IllegalArgumentException("cannot read CA file " + file + ": " + e.getCause().getMessage());
            }
        }
    }

    static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
        List<String[]> all = new ArrayList<>();
        all.add(header.toArray(String[]::new));
        rows.forEach(r -> all.add(r.toArray(String[]::new)));
        Table.print(out, all);
    }

    static int fail(CommandSpec spec, CloudClient.Response r) {
        spec.commandLine().getErr().println("error " + r.status() + ": " + r.problem());
        if (r.status() == 401) {
            spec.commandLine().getErr().println("  give a token: --token, --token-file FILE or EDGEFLEET_TOKEN (on the control plane's host, "
                    + "e.g. --token-file cloud-data/tokens/operator.token; others: edgefleet tokens create)");
        }
        return Main.FAILED;
    }

    @Command(name = "cloud", mixinStandardHelpOptions = true,
            description = {"Run the control plane (roles control, ingest; or all) until Ctrl-C.",
                "Without --config: embedded defaults (SQLite in ./cloud-data, no Kafka, HTTPS on 127.0.0.1:8080 (--plain-http: HTTP),",
                "API tokens created in cloud-data/tokens). See docs/control-plane.md."})
    static final class Cloud implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "Control-plane YAML (node 'cloud').")
        Path config;
        @Option(names = "--role", paramLabel = "ROLES", description = "control, ingest, inference, all, or a list (overrides the file).")
        String role;
        @Option(names = "--data-dir", paramLabel = "DIR", description = "Database, chunks, keys, tokens (default ./cloud-data).")
        Path dataDir;
        @Option(names = "--http-port", paramLabel = "P", description = "HTTP port; 0 picks one (default 8080).")
        Integer port;
        @Option(names = "--mqtt", paramLabel = "URL", description = "The fleet's MQTT broker, e.g. tcp://127.0.0.1:1883.")
        String mqtt;
        @Option(names = "--kafka", paramLabel = "SERVERS", description = "Kafka bootstrap servers; without, ingest runs in-process.")
        String kafka;
        @Option(names = "--rollout-tick-ms", paramLabel = "MS", description = "How often the rollout engine advances (default 1000).")
        Long rolloutTickMs;
        @Option(names = "--plain-http", description = {"Serve plain HTTP instead of HTTPS (behind a TLS-terminating proxy;",
                "devices then authenticate with tokens only)."})
        boolean plainHttp;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            if (config != null) {
                LoggingOptions.applyFile(config);
            }
            CloudConfig c = config != null ? CloudSettings.load(config) : CloudSettings.fromEnvironment();
            if (dataDir != null) {
                c = c.withDataDir(dataDir);
            }
            if (role != null) {
                c = c.withRoles(Role.parse(role));
            }
            if (port != null) {
                c = c.withHttp(c.httpHost(), port);
            }
            if (mqtt != null) {
                c = c.withMqtt(mqtt);
            }
            if (rolloutTickMs != null) {
                c = c.withRolloutTick(java.time.Duration.ofMillis(rolloutTickMs));
            }
            if (kafka != null) {
                c = c.withKafka(io.edgefleet.cloud.ingest.KafkaSettings.of(kafka));
            }
            if (plainHttp) {
                c = c.withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain());
            }
            Path broker = c.dataDir().resolve("broker");
            if (c.roles().contains(Role.CONTROL) && !java.nio.file.Files.exists(broker.resolve("mosquitto.conf"))) {
                // first start: a secured Mosquitto for this CA (TLS, client certificates, per-device rights), ready to run;
                // written before the control plane serves, so whoever sees it ready finds the files
                io.edgefleet.transport.pki.CertificateAuthority ca = io.edgefleet.cloud.pki.DevicePki.authority(c.pki(), c.pkiDir());
                io.edgefleet.cloud.broker.MosquittoConfig.write(broker, ca, new io.edgefleet.cloud.broker.MosquittoConfig
                        .Settings("0.0.0.0", 8883, java.util.List.of("localhost", "127.0.0.1"), broker.toAbsolutePath(),
                        io.edgefleet.cloud.broker.MosquittoConfig.DEBIAN_PLUGIN, java.time.Duration.ofDays(365)), java.util.List.of(), java.util.Map.of());
                io.edgefleet.cloud.broker.MosquittoConfig.writeAdmin(c.pkiDir(), ca, java.time.Duration.ofDays(365));
            }
            // OpenTelemetry: off unless cloud.tracing.enabled or OTEL_TRACES_EXPORTER=otlp (docs/control-plane.md, Tracing)
            io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.create(
                    CloudSettings.tracing(java.util.Optional.ofNullable(config)), ControlPlane.VERSION, c.instance());
            ControlPlane cp;
            try {
                cp = ControlPlane.start(c, java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), tracing,
                        CloudSettings.drift(java.util.Optional.ofNullable(config)));
            } catch (RuntimeException e) {
                tracing.close();
                throw e;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf("control plane on %s://%s:%d/api/v1 (roles %s), data in %s%n", c.httpTls().scheme(), c.httpHost(), cp.port(),
                    c.roles().stream().map(Role::wire).sorted().toList(), c.dataDir().toAbsolutePath().normalize());
            if (c.httpTls().enabled()) {
                // the operator's CA when configured (replicas share it as a mounted secret), else the one made in data-dir
                out.printf("CA certificate (clients trust it: --ca): %s%n", c.pki().caCertificate().orElse(c.pkiDir().resolve("ca.pem")));
            }
            if (c.tokens().isEmpty() && cp.tokens() != null) {
                Path operator = c.dataDir().resolve("tokens/operator.token");
                if (java.nio.file.Files.exists(operator)) {
                    out.printf("API tokens: %s (operator), %s (viewer)%n", operator, c.dataDir().resolve("tokens/viewer.token"));
                } else {
                    // a second replica on a shared database: the first one wrote the files and imported the tokens
                    out.println("API tokens: in the shared database (the replica that started first wrote them to its "
                            + "data-dir/tokens; more: edgefleet tokens create)");
                }
            }
            if (c.roles().contains(Role.CONTROL)) {
                out.printf("secured MQTT broker config for this CA: mosquitto -c %s (docs/security.md)%n",
                        broker.toAbsolutePath().normalize().resolve("mosquitto.conf"));
            }
            out.flush();
            // SIGTERM: every close step is bounded; this bound is the backstop (the issue's promise: gone within 10 s)
            BoundedShutdown.register("cloud", () -> {
                cp.close();
                tracing.close(); // the last spans, at most 5 s
            }, java.time.Duration.ofSeconds(8)).await();
            return Main.OK;
        }
    }

    @Command(name = "push",
            description = {"Register a model version: upload its variant files; the control plane loads each one in an isolated",
                "runtime for the target profiles and refuses the version, naming the file and the runtime's message, if one fails."})
    static final class Push implements Callable<Integer> {
        @picocli.CommandLine.Mixin HelpOption help; // not the standard mixin: its --version would clash with ours
        @Parameters(paramLabel = "FILE", arity = "1..*", description = "Variant files (.tflite, .onnx).")
        List<Path> files;
        @Option(names = "--name", required = true, paramLabel = "MODEL") String name;
        @Option(names = "--version", required = true, paramLabel = "V") String version;
        @Option(names = "--profile", paramLabel = "ID", description = "Target device profile; repeat (default: any profile that can run it).")
        List<String> profiles = List.of();
        @Option(names = "--task", paramLabel = "TASK") String task;
        @Option(names = "--label", paramLabel = "L", description = "Class label, in output order; repeat.") List<String> labels = List.of();
        @Option(names = "--owner", paramLabel = "WHO") String owner;
        @Option(names = "--allow-signature-change", description = {"Register even though the inputs or outputs (names, datatypes, shapes)",
            "differ from the previous version's; clients must change with it."}) boolean allowSignatureChange;
        @Option(names = "--json", description = "Print the API's JSON of the version (no progress bar).") boolean json;
        @Mixin Server server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            long total = 0;
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    spec.commandLine().getErr().println("error: " + f + " is not a file");
                    return Main.FAILED;
                }
                total += Files.size(f);
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            if (task != null) {
                meta.put("task", task);
            }
            if (!labels.isEmpty()) {
                meta.put("labels", labels);
            }
            if (owner != null) {
                meta.put("owner", owner);
            }
            PrintWriter out = spec.commandLine().getOut();
            ProgressBar bar = new ProgressBar(json ? new PrintWriter(java.io.Writer.nullWriter()) : out, "upload " + name + "/" + version, total);
            CloudClient.Response r = server.client().pushModel(name, version, files, profiles, meta, allowSignatureChange, bar::update);
            bar.done();
            if (!r.ok()) {
                fail(spec, r);
                for (JsonNode x : r.json().path("signatureChanges")) {
                    spec.commandLine().getErr().printf("  %s%n", x.asText());
                }
                for (JsonNode x : r.json().path("refusals")) {
                    spec.commandLine().getErr().printf("  %s%s: %s%n", x.get("file").asText(),
                            x.hasNonNull("profile") ? " (" + x.get("profile").asText() + ")" : "", x.get("reason").asText());
                }
                return Main.FAILED;
            }
            if (json) {
                out.println(r.text());
                return Main.OK;
            }
            JsonNode v = r.json();
            out.printf("registered %s/%s: %d variant(s), signed manifest at /sync/v1/manifests/%s/%s%n", name, version,
                    v.get("variants").size(), name, version);
            for (JsonNode x : v.get("variants")) {
                out.printf("  %-14s %-12s %-5s %9d bytes  validated with %s%s%n", x.get("id").asText(), x.get("runtime").asText(),
                        x.get("precision").asText(), x.get("sizeBytes").asLong(), x.get("validatedWith").asText(),
                        x.get("warnings").isEmpty() ? "" : "  (" + x.get("warnings").get(0).asText() + ")");
            }
            return Main.OK;
        }
    }

    @Command(name = "devices", mixinStandardHelpOptions = true, description = "The fleet registry.",
            subcommands = {Devices.ListDevices.class, FleetCommands.Tags.class, EnrolmentCommands.RevokeDevice.class})
    static final class Devices implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        @Command(name = "list", mixinStandardHelpOptions = true,
                description = {"List devices with their truthful status (online, offline, stale, registered).",
                    "Selector terms: fleet=F, tag=T (repeatable), profile=P, model=M or model=M@V, status=S, device=D."})
        static final class ListDevices implements Callable<Integer> {
            @Option(names = "--selector", paramLabel = "TERMS", description = "e.g. fleet=plant-7,tag=line-3,model=kws@2") String selector;
            @Option(names = "--json", description = "Print the API's JSON.") boolean json;
            @Mixin Server server;
            @Spec
            CommandSpec spec;

            @Override
            public Integer call() {
                CloudClient.Response r = server.client().get("/api/v1/devices" + (selector == null ? "" : "?selector=" + CloudClient.enc(selector)));
                if (!r.ok()) {
                    return fail(spec, r);
                }
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(r.text());
                    return Main.OK;
                }
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode d : r.json().get("devices")) {
                    List<String> models = new ArrayList<>();
                    d.get("models").forEach(m -> models.add(m.get("model").asText() + "@" + m.path("active").asText("-")));
                    rows.add(List.of(d.get("fleet").asText(), d.get("device").asText(), d.get("status").asText(),
                            d.path("statusSince").asText(""), d.path("profile").asText("?"), String.join(" ", models),
                            String.join(",", textList(d.get("tags")))));
                }
                table(out, List.of("FLEET", "DEVICE", "STATUS", "SINCE", "PROFILE", "MODELS", "TAGS"), rows);
                out.printf("%d device(s)%n", rows.size());
                return Main.OK;
            }

            private static List<String> textList(JsonNode array) {
                List<String> out = new ArrayList<>();
                array.forEach(n -> out.add(n.asText()));
                return out;
            }
        }
    }

    @Command(name = "telemetry",
            description = "Aggregated telemetry of a model version (or of one device with --device FLEET/DEVICE).")
    static final class Telemetry implements Callable<Integer> {
        @picocli.CommandLine.Mixin HelpOption help; // not the standard mixin: its --version would clash with ours
        @Option(names = "--model", paramLabel = "M") String model;
        @Option(names = "--version", paramLabel = "V") String version;
        @Option(names = "--device", paramLabel = "FLEET/DEVICE") String device;
        @Option(names = "--from", defaultValue = "-1h", paramLabel = "T", description = "ISO instant or -N[s|m|h|d] (default ${DEFAULT-VALUE}).")
        String from;
        @Option(names = "--to", paramLabel = "T") String to;
        @Option(names = "--json", description = "Print the API's JSON.") boolean json;
        @Mixin Server server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            String range = "from=" + CloudClient.enc(from) + (to == null ? "" : "&to=" + CloudClient.enc(to));
            String path;
            if (device != null) {
                String[] fd = device.split("/", 2);
                if (fd.length != 2) {
                    spec.commandLine().getErr().println("error: --device takes FLEET/DEVICE");
                    return Main.USAGE;
                }
                path = "/api/v1/telemetry/fleets/" + CloudClient.enc(fd[0]) + "/devices/" + CloudClient.enc(fd[1]) + "?" + range;
            } else if (model != null && version != null) {
                path = "/api/v1/telemetry/models/" + CloudClient.enc(model) + "/versions/" + CloudClient.enc(version) + "?series=true&" + range;
            } else {
                spec.commandLine().getErr().println("error: give --model and --version, or --device FLEET/DEVICE");
                return Main.USAGE;
            }
            CloudClient.Response r = server.client().get(path);
            if (!r.ok()) {
                return fail(spec, r);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.text());
                return Main.OK;
            }
            JsonNode n = r.json();
            List<List<String>> rows = new ArrayList<>();
            if (device != null) {
                n.get("models").forEach(a -> rows.add(row(a.get("model").asText() + "@" + a.get("version").asText(), a)));
                out.printf("%s from %s to %s (batches lost on the device: %d)%n", device, n.get("from").asText(), n.get("to").asText(),
                        n.get("lostBatches").asLong());
            } else {
                n.path("series").forEach(a -> rows.add(row(a.get("bucket").asText(), a)));
                rows.add(row("total", n.get("total")));
                out.printf("%s/%s from %s to %s, %d device(s)%n", model, version, n.get("from").asText(), n.get("to").asText(),
                        n.get("total").get("devices").asLong());
            }
            table(out, List.of("WINDOW", "REQUESTS", "ERRORS", "CLIENT ERRORS", "ESCALATED", "NON-FINITE", "CONFIDENCE", "P50 MS", "P95 MS",
                    "P99 MS", "MAX MS"), rows);
            return Main.OK;
        }

        /** Client errors as {@code 150 (invalid-input 149, bad-request 1)}, or {@code 0}. */
        static String clientErrors(JsonNode a) {
            long total = a.path("clientErrorCount").asLong(0);
            if (total == 0) {
                return "0";
            }
            List<String> kinds = new ArrayList<>();
            a.path("clientErrors").properties().forEach(e -> kinds.add(e.getKey() + " " + e.getValue().asLong()));
            return total + " (" + String.join(", ", kinds) + ")";
        }

        private static List<String> row(String label, JsonNode a) {
            return List.of(label, a.get("count").asText(), a.get("errors").asText(), clientErrors(a), a.get("escalations").asText(),
                    a.get("nonFinite").asText(),
                    a.hasNonNull("meanConfidence") ? String.format("%.3f", a.get("meanConfidence").asDouble()) : "-",
                    String.format("%.2f", a.get("p50Ms").asDouble()), String.format("%.2f", a.get("p95Ms").asDouble()),
                    String.format("%.2f", a.get("p99Ms").asDouble()), String.format("%.2f", a.get("maxMs").asDouble()));
        }
    }
}
