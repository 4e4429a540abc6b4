package io.edgefleet.testkit;

/**
 * A real Mosquitto broker on 127.0.0.1 for one test class. It keeps its port across
 * {@link #stop()} / {@link #start()}, so clients can reconnect to the same URL after a restart,
 * and it persists sessions and retained messages across restarts like a production broker.
 */
public interface MosquittoBroker extends AutoCloseable {
    /** {@code tcp://127.0.0.1:PORT}. */
    default String url() {
        return "tcp://127.0.0.1:" + port();
    }

    int port();

    /** Whether the broker accepts connections now. */
    boolean isRunning();

    /** Starts the broker (again) on the same port; waits until it accepts connections. */
    void start();

    /** Stops the broker gracefully (it saves its persistence file); waits until the port is closed. */
    void stop();

    /** Kills the broker without letting it save anything, like a power cut. */
    void kill();

    /** {@link #stop()} then {@link #start()}. */
    default void restart() {
        stop();
        start();
    }

    /** The broker's own folder (config, persistence, logs); only for a broker started from the binary. */
    default java.nio.file.Path folder() {
        throw new UnsupportedOperationException("no local folder for " + describe());
    }

    /** The last 20 lines of the broker's log (e.g. why it refused a connection), or "" where there is none. */
    default String logTail() {
        return "";
    }

    /** How this broker runs, e.g. {@code mosquitto 2.0.11 (binary /usr/sbin/mosquitto)}. */
    String describe();

    /** Stops the broker and removes its files. */
    @Override
    void close();
}
