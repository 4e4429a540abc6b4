package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** An {@code edgefleet} command run as a child JVM with this test's class path; its stdout and stderr go to one log file. */
final class ChildJvm implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process process;
    private final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static ChildJvm start(Path log, String... args) throws IOException {
        return start(log, java.util.Map.of(), args);
    }

    /** With {@code env} added to this JVM's environment. */
    static ChildJvm start(Path log, java.util.Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        b.environment().putAll(env);
        Process p = b.start();
        return new ChildJvm(p, log);
    }

    Process process() {
        return process;
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /**
     * How long a child may take to start or to end before the test gives up: a liveness guard, not a speed check. The
     * agent's way to ready or to a strict refusal starts a verifier JVM per model file, each on this test's whole class
     * path; on a loaded CI machine three JVM starts in a row took over a minute.
     */
    static final Duration PATIENCE = Duration.ofSeconds(180);

    /** Waits for the process to end on its own; fails after {@code timeout} with the log and thread dumps of it and its children. */
    int awaitExit(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("process did not end within " + timeout + "; log:\n" + log() + "\n" + threadDumps());
        }
        return process.exitValue();
    }

    /**
     * {@code jcmd PID Thread.print} of the child and of every JVM it started (the model verifiers), so a hang says
     * where it hangs instead of only that it did.
     */
    String threadDumps() {
        StringBuilder b = new StringBuilder();
        java.util.stream.Stream.concat(java.util.stream.Stream.of(process.toHandle()), process.descendants()).filter(ProcessHandle::isAlive)
                .forEach(h -> {
                    b.append("---- threads of ").append(h.pid()).append(' ').append(h.info().commandLine().map(c -> c.length() > 300 ? c.substring(0, 300) + "…" : c)
                            .orElse("")).append('\n');
                    try {
                        Process j = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(h.pid()), "Thread.print")
                                .redirectErrorStream(true).start();
                        j.getOutputStream().close();
                        byte[] out = j.getInputStream().readAllBytes();
                        j.waitFor(30, TimeUnit.SECONDS);
                        b.append(new String(out, java.nio.charset.StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        b.append("(jcmd failed: ").append(e.getMessage()).append(")\n");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        return b.toString();
    }

    /** Polls {@code url} until it answers 200; fails if the process dies or after {@link #PATIENCE}. */
    void awaitOk(String url) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(process.isAlive()).as("process alive; log:%n%s", log()).isTrue();
            try {
                if (get(url).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no 200 from " + url + " within " + PATIENCE + "; log:\n" + log() + "\n" + threadDumps());
    }

    static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String url, String json) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
