package io.edgefleet.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** A Mosquitto process the simulator starts (persistence on, so a restart keeps sessions and queued messages). */
final class MosquittoBroker implements Broker {
    private final Path dir;
    private final int port;
    private final Path bin;
    private Process process;

    private MosquittoBroker(Path dir, int port, Path bin) {
        this.dir = dir;
        this.port = port;
        this.bin = bin;
    }

    static Optional<Path> binary() {
        return List.of("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto", "/opt/homebrew/sbin/mosquitto").stream()
                .map(Path::of).filter(Files::isExecutable).findFirst();
    }

    static MosquittoBroker start(Path dir, int port) {
        Path bin = binary().orElseThrow(() -> new IllegalStateException(
                "broker: mosquitto is not installed (apt-get install mosquitto), or use broker: embedded"));
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("mosquitto.conf"), "listener " + port + " 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
                    + "persistence true\npersistence_location " + dir.toAbsolutePath() + "/\nmax_queued_messages 100000\n"
                    // Paho 1.2.5 resends in-flight PUBLISHes after a reconnect with the old connection's topic alias
                    + "max_topic_alias 0\n"
                    + ("root".equals(System.getProperty("user.name")) ? "user root\n" : ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        MosquittoBroker b = new MosquittoBroker(dir, port, bin);
        b.start();
        return b;
    }

    @Override
    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    @Override
    public String describe() {
        return "mosquitto (" + bin + ", started by the simulator) on 127.0.0.1:" + port;
    }

    @Override
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            process = new ProcessBuilder(bin.toString(), "-c", dir.resolve("mosquitto.conf").toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile())).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return;
                } catch (IOException e) {
                    if (!process.isAlive()) {
                        break;
                    }
                    Thread.sleep(25);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("mosquitto did not start on port " + port + " (see " + dir.resolve("mosquitto.log") + ")");
    }

    @Override
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy(); // SIGTERM: mosquitto writes its persistence file on the way out
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** A broker the simulator did not start: used as is, never restarted. */
    record External(String url) implements Broker {
        @Override
        public String describe() {
            return "external broker " + url;
        }

        @Override
        public void stop() {
            throw new UnsupportedOperationException("an external broker cannot be stopped by the simulator");
        }

        @Override
        public void start() {
        }

        @Override
        public boolean restartable() {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
