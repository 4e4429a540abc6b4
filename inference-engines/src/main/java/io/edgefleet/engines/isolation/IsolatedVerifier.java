package io.edgefleet.engines.isolation;

import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.MessageCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Loads a model file for the first time in a short-lived child JVM, because a malformed or
 * hostile file can corrupt the native runtime's heap and kill the process that loads it. The
 * caller gets the file's inspection, or a {@link ModelLoadException} that names the file and what
 * happened: the runtime's own refusal, a native crash with its signal, a hang past the time limit,
 * or running out of the child's heap. The caller's process keeps running in every case.
 *
 * <p>The child runs {@link VerifierMain} with this JVM's {@code java} and class path, and reads this
 * JVM's AppCDS archive ({@code -XX:SharedArchiveFile}, as the agent distribution's
 * {@code conf/jvm.options} sets) when there is one, which saves the child a third of its CPU time
 * on the agent's way to ready; it never writes the archive. Blocking; call it from a worker thread. Thread-safe: each call has its own child and temporary folder.
 */
public final class IsolatedVerifier {
    private IsolatedVerifier() {
    }

    private static final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.CompletableFuture<ModelInspection>> SHARED =
            new java.util.concurrent.ConcurrentHashMap<>();

    public static ModelInspection verify(Path file, IsolationOptions options) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(name, "does not exist or is not a file");
        }
        if (options.shareVerdicts() && options.fault().isEmpty()) {
            return shared(file, options);
        }
        return verifyInChild(file, options);
    }

    /** One child per distinct content at a time; a success is remembered, a failure is not (the next caller tries again). */
    private static ModelInspection shared(Path file, IsolationOptions options) {
        String key;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            key = java.util.HexFormat.of().formatHex(md.digest()) + "/" + options.maxHeapMb();
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new ModelLoadException(file.toString(), "cannot read the file: " + e.getMessage(), e);
        }
        java.util.concurrent.CompletableFuture<ModelInspection> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<ModelInspection> f = SHARED.putIfAbsent(key, mine);
        if (f == null) {
            try {
                mine.complete(verifyInChild(file, options));
            } catch (RuntimeException e) {
                SHARED.remove(key, mine);
                mine.completeExceptionally(e);
            }
            f = mine;
        }
        try {
            ModelInspection i = f.join();
            return new ModelInspection(file.toString(), i.runtime(), i.runtimeVersion(), i.sizeBytes(), i.sha256(), i.inputs(), i.outputs());
        } catch (java.util.concurrent.CompletionException e) {
            if (f != mine) {
                return verifyInChild(file, options); // another caller's failure: judge this file in a child of its own
            }
            throw (RuntimeException) e.getCause();
        }
    }

    private static ModelInspection verifyInChild(Path file, IsolationOptions options) {
        String name = file.toString();
        Path dir;
        try {
            dir = Files.createTempDirectory("edgefleet-verify-");
        } catch (IOException e) {
            throw new ModelLoadException(name, "cannot create a temporary folder for the verifier: " + e.getMessage(), e);
        }
        try {
            return run(file, options, dir);
        } finally {
            deleteTree(dir);
        }
    }

    private static ModelInspection run(Path file, IsolationOptions options, Path dir) {
        String name = file.toString();
        Path stdout = dir.resolve("stdout.json");
        Path stderr = dir.resolve("stderr.txt");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + options.maxHeapMb() + "m");
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-XX:-CreateCoredumpOnCrash");
        cmd.add("-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"));
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xshare:auto");
        if (compactObjectHeaders()) {
            // the agent's archive was dumped with compact headers: the child can map it only with them too
            cmd.add("-XX:+UnlockExperimentalVMOptions"); // needed on JDK 24, harmless later
            cmd.add("-XX:+UseCompactObjectHeaders");
        }
        sharedArchive().ifPresent(a -> {
            cmd.add("-XX:SharedArchiveFile=" + a); // read-only: no AutoCreateSharedArchive in the child
            cmd.add("-Xlog:cds=off");              // a stale or mismatched archive is skipped; say nothing
            cmd.add("-Xlog:cds+dynamic=off");
        });
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 23) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.add("-Djava.io.tmpdir=" + dir);
        options.fault().ifPresent(f -> cmd.add("-Dedgefleet.isolation.fault=" + f.name()));
        // the child loads the same TFLite JNI library as this process (agent.engines.tflite.native-library)
        io.edgefleet.profiles.probe.TfliteNative.configured()
                .ifPresent(lib -> cmd.add("-D" + io.edgefleet.profiles.probe.TfliteNative.PROPERTY + "=" + lib.toAbsolutePath()));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(VerifierMain.class.getName());
        cmd.add(file.toAbsolutePath().toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            throw new ModelLoadException(name, "cannot start the verifier JVM: " + e.getMessage(), e);
        }
        boolean finished;
        try {
            finished = p.waitFor(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ModelLoadException(name, "verification interrupted", e);
        }
        if (!finished) {
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new ModelLoadException(name, "loading did not finish within " + options.timeout().toSeconds()
                    + " s (the runtime hung); the verifier JVM was killed");
        }
        int code = p.exitValue();
        // The JVM writes its fatal-error banner to stdout; our answer is the last line that is a JSON object.
        String out = read(stdout).lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("");
        if (code != 0 && !hsErr(dir).isEmpty()) {
            // A JVM that crashed without a core dump exits with 1, like a refusal: the crash report tells them apart.
            throw new ModelLoadException(name, crash(code, dir, out, read(stderr)));
        }
        return switch (code) {
            case 0 -> {
                ModelInspection i = parse(name, out);
                // the child saw the absolute path; report the file as the caller named it
                yield new ModelInspection(name, i.runtime(), i.runtimeVersion(), i.sizeBytes(), i.sha256(), i.inputs(), i.outputs());
            }
            case VerifierMain.REFUSED -> throw new ModelLoadException(name, error(out));
            case 3 -> throw new ModelLoadException(name, "loading ran out of memory in the verifier JVM (-Xmx"
                    + options.maxHeapMb() + "m)");
            default -> throw new ModelLoadException(name, crash(code, dir, out, read(stderr)));
        };
    }

    /** Whether this JVM was started with {@code -XX:+UseCompactObjectHeaders} (conf/jvm.options, JDK 25+), the last such flag winning. */
    static boolean compactObjectHeaders() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.equals("-XX:+UseCompactObjectHeaders") || a.equals("-XX:-UseCompactObjectHeaders"))
                .reduce((a, b) -> b).filter(a -> a.startsWith("-XX:+")).isPresent();
    }

    /** This JVM's {@code -XX:SharedArchiveFile} when that file exists (it does not before the first start's exit). */
    static java.util.Optional<String> sharedArchive() {
        String flag = "-XX:SharedArchiveFile=";
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith(flag)).map(a -> a.substring(flag.length())).reduce((a, b) -> b)
                .filter(a -> !a.contains(java.io.File.pathSeparator) && Files.isRegularFile(Path.of(a)));
    }

    private static ModelInspection parse(String name, String out) {
        try {
            return MessageCodec.json().decode(out.strip().getBytes(StandardCharsets.UTF_8), ModelInspection.class);
        } catch (ProtocolException e) {
            throw new ModelLoadException(name, "the verifier JVM answered something unreadable: " + e.getMessage(), e);
        }
    }

    private static String error(String out) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = MessageCodec.json().decode(out.strip().getBytes(StandardCharsets.UTF_8), Map.class);
            return String.valueOf(m.getOrDefault("error", "refused"));
        } catch (ProtocolException e) {
            return "refused (" + out.strip() + ")";
        }
    }

    /** Names the signal: from the JVM's crash report when there is one, else from the exit code. */
    private static String crash(int code, Path dir, String out, String err) {
        String report = hsErr(dir);
        if (!report.isEmpty()) {
            String signal = report.lines().filter(l -> l.matches("#\\s+(SIG[A-Z]+|EXCEPTION_[A-Z_]+).*")).findFirst()
                    .map(l -> l.replaceFirst("#\\s+", "").replaceFirst(" at pc=.*", "")).orElse("a fatal error");
            String frame = report.lines().dropWhile(l -> !l.startsWith("# Problematic frame:")).skip(1).findFirst()
                    .map(l -> "; problematic frame: " + l.replaceFirst("#\\s*", "")).orElse("");
            return "the runtime crashed the verifier JVM with " + signal + " (exit code " + code + frame + ")";
        }
        if (code > 128) {
            int sig = code - 128;
            return "the verifier JVM was killed by signal " + sig + " (" + signalName(sig) + ")";
        }
        String detail = !out.isBlank() ? error(out) : err.lines().reduce((a, b) -> b).orElse("");
        return "the verifier JVM failed with exit code " + code + (detail.isBlank() ? "" : ": " + detail);
    }

    private static String hsErr(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(x -> x.getFileName().toString().startsWith("hs_err")).toList()) {
                return Files.readString(f, StandardCharsets.ISO_8859_1);
            }
        } catch (IOException e) {
            // no report
        }
        return "";
    }

    static String signalName(int sig) {
        return switch (sig) {
            case 4 -> "SIGILL";
            case 6 -> "SIGABRT";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 15 -> "SIGTERM";
            default -> "signal " + sig;
        };
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
