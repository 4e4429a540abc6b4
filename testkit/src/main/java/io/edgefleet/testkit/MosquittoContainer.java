package io.edgefleet.testkit;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports.Binding;
import java.time.Duration;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * Mosquitto in a container (Testcontainers), where a Docker engine is available. The host
 * port is fixed at creation so that a stopped and restarted container keeps its address.
 */
final class MosquittoContainer implements MosquittoBroker {
    static final DockerImageName IMAGE = DockerImageName.parse("eclipse-mosquitto:2.0.20");

    private final int port = Ports.freePort();
    private final GenericContainer<?> container;

    @SuppressWarnings("resource")
    MosquittoContainer() {
        container = new GenericContainer<>(IMAGE)
                .withCopyToContainer(Transferable.of("listener 1883\nallow_anonymous true\npersistence true\n"
                        + "persistence_location /mosquitto/data/\nautosave_interval 1\n"), "/mosquitto/config/mosquitto.conf")
                .withExposedPorts(1883)
                .withCreateContainerCmdModifier(cmd -> cmd.withHostConfig(HostConfig.newHostConfig()
                        .withPortBindings(new PortBinding(Binding.bindIpAndPort("127.0.0.1", port), new ExposedPort(1883)))));
    }

    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public boolean isRunning() {
        return container.isRunning() && Ports.accepts(port);
    }

    @Override
    public synchronized void start() {
        if (container.getContainerId() == null) {
            container.start();
        } else {
            DockerClientFactory.instance().client().startContainerCmd(container.getContainerId()).exec();
        }
        if (!Ports.awaitAccepting(port, Duration.ofSeconds(30))) {
            throw new IllegalStateException("mosquitto container did not accept connections on 127.0.0.1:" + port);
        }
    }

    @Override
    public synchronized void stop() {
        if (container.getContainerId() != null) {
            DockerClientFactory.instance().client().stopContainerCmd(container.getContainerId()).withTimeout(10).exec();
            Ports.awaitClosed(port, Duration.ofSeconds(10));
        }
    }

    @Override
    public synchronized void kill() {
        if (container.getContainerId() != null) {
            DockerClientFactory.instance().client().killContainerCmd(container.getContainerId()).exec();
            Ports.awaitClosed(port, Duration.ofSeconds(10));
        }
    }

    @Override
    public String describe() {
        return "mosquitto container " + IMAGE + " on 127.0.0.1:" + port;
    }

    @Override
    public void close() {
        container.stop();
    }
}
