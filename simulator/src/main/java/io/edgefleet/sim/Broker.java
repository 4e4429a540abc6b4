package io.edgefleet.sim;

/**
 * The MQTT broker of a simulation: an embedded HiveMQ CE in this JVM, or a Mosquitto the scenario
 * names (started by the simulator, or one already running). Faults restart it.
 */
public interface Broker extends AutoCloseable {
    /** Where clients connect, e.g. {@code tcp://127.0.0.1:1883}. */
    String url();

    /** What it is, for the report ("embedded HiveMQ CE 2025.4", "mosquitto 2.0.21 (process)"). */
    String describe();

    /** Stops the broker; sessions and queued messages persist in its data folder. */
    void stop();

    /** Starts it again on the same port with the same data. */
    void start();

    /** Whether the simulator can stop and start it (an external broker cannot be restarted). */
    default boolean restartable() {
        return true;
    }

    @Override
    void close();
}
