package io.edgefleet.sim;

import com.hivemq.embedded.EmbeddedHiveMQ;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * HiveMQ Community Edition in this JVM: a full MQTT 5 broker (retained messages, shared
 * subscriptions, response topics and correlation data, last wills, persistent sessions), so a
 * simulation needs nothing installed. One TCP listener on 127.0.0.1; sessions, retained messages
 * and queued QoS 1 messages persist in {@code dir/data} across {@link #stop()}/{@link #start()}.
 */
public final class EmbeddedBroker implements Broker {
    private final Path dir;
    private final int port;
    private EmbeddedHiveMQ hive;

    private EmbeddedBroker(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a broker listening on {@code 127.0.0.1:port} with its folders under {@code dir}. */
    public static EmbeddedBroker start(Path dir, int port) {
        EmbeddedBroker b = new EmbeddedBroker(dir, port);
        try {
            Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("data"));
            Files.createDirectories(dir.resolve("extensions"));
            Files.writeString(dir.resolve("conf/config.xml"), """
                    <?xml version="1.0"?>
                    <hivemq>
                      <listeners>
                        <tcp-listener><port>%d</port><bind-address>127.0.0.1</bind-address></tcp-listener>
                      </listeners>
                      <mqtt>
                        <!-- Paho 1.2.5 resends in-flight PUBLISHes after a reconnect with the old connection's
                             topic alias; the broker then drops the client (0x94) on every attempt -->
                        <topic-alias><enabled>false</enabled></topic-alias>
                      </mqtt>
                      <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                    </hivemq>
                    """.formatted(port));
            // HiveMQ resets Logback from its config folder: the application's own configuration goes there.
            try (var in = EmbeddedBroker.class.getResourceAsStream("/edgefleet-logback.xml")) {
                if (in != null) {
                    Files.write(dir.resolve("conf/logback.xml"), in.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        b.start();
        return b;
    }

    @Override
    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    @Override
    public String describe() {
        return "embedded HiveMQ CE (in this JVM) on 127.0.0.1:" + port;
    }

    @Override
    public synchronized void start() {
        if (hive != null) {
            return;
        }
        EmbeddedHiveMQ h = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(dir.resolve("conf"))
                .withDataFolder(dir.resolve("data"))
                .withExtensionsFolder(dir.resolve("extensions"))
                .build();
        try {
            h.start().join();
        } catch (RuntimeException e) {
            try {
                h.close();
            } catch (Exception ignored) {
                // the start failure is the news
            }
            throw new IllegalStateException("the embedded MQTT broker did not start on port " + port + ": " + e.getMessage(), e);
        }
        hive = h;
    }

    @Override
    public synchronized void stop() {
        if (hive == null) {
            return;
        }
        try {
            hive.stop().join();
            hive.close();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the embedded MQTT broker: " + e.getMessage(), e);
        } finally {
            hive = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
