package io.edgefleet.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes manifests under {@code deploy/k8s} (docs/install.md#kubernetes), rendered by the real
 * {@code kubectl kustomize} for the base and every overlay, then read as Kubernetes reads them: the
 * probes reach what the control plane serves (HTTPS on the configured port, {@code /observe/health}),
 * every pod runs as the image's non-root user with a read-only root, no capabilities and the runtime's
 * seccomp profile, secrets are referenced and never carried, the images are this build's, the HPA
 * scales the inference Deployment, and the NetworkPolicies open only the ports the pods serve.
 *
 * <p>{@code kubectl apply --dry-run=client} is not used: it asks an API server for the resource
 * mappings even with {@code --validate=false} ("unable to recognize STDIN ... connection refused"
 * without a cluster), so it cannot run in CI. Skipped, saying so, only when kubectl is not installed.
 */
class KubernetesManifestsTest {
    private static final Pattern SECRETISH = Pattern.compile("(?i).*(token|secret|password|key).*");
    /** Each kustomization rendered once per run (kubectl takes about a second a render). */
    private static final Map<String, List<Map<String, Object>>> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();
    private static Path root;
    private static String version;
    private static boolean kubectl;

    @BeforeAll
    static void findRepository() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/k8s/base"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("deploy/k8s/base above " + Path.of("").toAbsolutePath()).isNotNull();
        root = dir;
        Matcher m = Pattern.compile("<artifactId>edgefleet-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(root.resolve("pom.xml")));
        assertThat(m.find()).as("the parent pom's version").isTrue();
        version = m.group(1);
        kubectl = kubectlPresent();
    }

    /** Per test, so that each one is reported skipped with the reason (an abort in {@code @BeforeAll} reports nothing). */
    @BeforeEach
    void needsKubectl() {
        Assumptions.assumeTrue(kubectl, "kubectl not installed: deploy/k8s is not validated (Debian: apt-get install kubernetes-client)");
    }

    static Stream<String> kustomizations() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/k8s/base"))) {
            dir = dir.getParent();
        }
        List<String> all = new ArrayList<>(List.of("base"));
        try (Stream<Path> overlays = Files.list(dir.resolve("deploy/k8s/overlays"))) {
            overlays.filter(p -> Files.exists(p.resolve("kustomization.yaml"))).map(p -> "overlays/" + p.getFileName()).sorted().forEach(all::add);
        }
        return all.stream();
    }

    @Test
    void every_overlay_is_tested() throws IOException {
        assertThat(kustomizations().toList()).contains("base", "overlays/gpu", "overlays/queue-depth-hpa", "overlays/replicas", "overlays/single");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void pods_are_probed_over_https_where_the_control_plane_listens_and_run_locked_down(String kustomization) throws Exception {
        List<Map<String, Object>> docs = render(kustomization);
        Map<String, Object> cloudYaml = cloudYaml(docs);
        Map<String, Object> http = map(cloudYaml, "http");
        int port = ((Number) http.get("port")).intValue();
        assertThat(http.get("host")).as("the listener must take connections from outside the pod").isEqualTo("0.0.0.0");
        assertThat(map(http, "tls").get("enabled")).as("HTTPS, the control plane's default").isNotEqualTo(false);
        List<Map<String, Object>> workloads = workloads(docs);
        assertThat(workloads).isNotEmpty();
        for (Map<String, Object> w : workloads) {
            String name = name(w);
            Map<String, Object> pod = map(map(map(w, "spec"), "template"), "spec");
            assertThat(pod.get("automountServiceAccountToken")).as(name).isEqualTo(false);
            Map<String, Object> psc = map(pod, "securityContext");
            assertThat(psc).as(name).containsEntry("runAsNonRoot", true).containsEntry("runAsUser", 10001);
            assertThat(map(psc, "seccompProfile")).as(name).containsEntry("type", "RuntimeDefault");
            Map<String, Object> c = containers(pod).get(0);
            Map<String, Object> sc = map(c, "securityContext");
            assertThat(sc).as(name).containsEntry("readOnlyRootFilesystem", true).containsEntry("allowPrivilegeEscalation", false);
            assertThat(list(map(sc, "capabilities"), "drop")).as(name).containsExactly("ALL");
            assertThat(mountedFrom(pod, c, "/tmp")).as(name + ": /tmp is writable").containsKey("emptyDir");
            assertThat(c.get("image")).as(name).isIn("edgefleet-cloud:" + version, "edgefleet-cloud-gpu:" + version);
            assertThat(env(c).get("CLOUD_ROLES")).as(name).isIn("control", "ingest", "inference", "all");
            assertThat(map(c, "resources")).as(name).containsKeys("requests", "limits");
            assertThat(map(map(c, "resources"), "requests")).as(name).containsKeys("cpu", "memory");
            assertThat(map(map(c, "resources"), "limits")).as(name).containsKeys("cpu", "memory");
            Map<String, Object> ports = list(c, "ports").stream().map(KubernetesManifestsTest::asMap)
                    .collect(Collectors.toMap(p -> (String) p.get("name"), p -> p.get("containerPort")));
            assertThat(ports).as(name).containsEntry("https", port);
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                Map<String, Object> get = map(map(c, probe), "httpGet");
                assertThat(get).as(name + " " + probe).containsEntry("scheme", "HTTPS").containsEntry("port", "https");
                assertThat((String) get.get("path")).as(name + " " + probe).startsWith("/observe/health");
            }
            assertThat(map(map(c, "livenessProbe"), "httpGet").get("path")).as(name + ": a broker outage must not restart the pod")
                    .isEqualTo("/observe/health/live");
            assertThat(map(map(c, "readinessProbe"), "httpGet").get("path")).isEqualTo("/observe/health/ready");
            assertThat(mountedFrom(pod, c, (String) cloudYaml.get("data-dir"))).as(name + ": data-dir is a volume").isNotNull();
            Map<String, Object> pki = map(cloudYaml, "pki");
            assertThat(mountedFrom(pod, c, Path.of((String) pki.get("ca-key")).getParent().toString())).as(name + ": the CA from its Secret")
                    .containsKey("secret");
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void secrets_are_referenced_never_carried(String kustomization) throws Exception {
        List<Map<String, Object>> docs = render(kustomization);
        assertThat(docs).noneMatch(d -> "Secret".equals(d.get("kind")));
        for (Map<String, Object> w : workloads(docs)) {
            for (Map<String, Object> c : containers(map(map(map(w, "spec"), "template"), "spec"))) {
                for (Object o : list(c, "env")) {
                    Map<String, Object> e = asMap(o);
                    if (SECRETISH.matcher((String) e.get("name")).matches()) {
                        assertThat(e).as(name(w) + " " + e.get("name")).doesNotContainKey("value");
                        assertThat(map(map(e, "valueFrom"), "secretKeyRef").get("name")).isEqualTo("edgefleet-tokens");
                    }
                }
            }
        }
        Map<String, Object> cloudYaml = cloudYaml(docs);
        for (Object t : list(map(cloudYaml, "auth"), "tokens")) {
            assertThat(asMap(t)).as("tokens come from the environment").containsKey("token-env").doesNotContainKey("token");
        }
    }

    @Test
    void base_runs_one_control_with_a_volume_and_scales_ingest_and_inference_on_cpu() throws Exception {
        List<Map<String, Object>> docs = render("base");
        Map<String, Object> control = only(docs, "StatefulSet", "edgefleet-control");
        assertThat(map(control, "spec").get("replicas")).as("SQLite: one writer").isEqualTo(1);
        Map<String, Object> claim = asMap(list(map(control, "spec"), "volumeClaimTemplates").get(0));
        assertThat(map(claim, "metadata").get("name")).isEqualTo("data");
        assertThat(env(containers(map(map(map(control, "spec"), "template"), "spec")).get(0))).containsEntry("CLOUD_ROLES", "control");
        for (String role : List.of("ingest", "inference")) {
            Map<String, Object> d = only(docs, "Deployment", "edgefleet-" + role);
            assertThat((Integer) map(d, "spec").get("replicas")).as(role).isGreaterThanOrEqualTo(2);
            assertThat(env(containers(map(map(map(d, "spec"), "template"), "spec")).get(0))).containsEntry("CLOUD_ROLES", role);
            only(docs, "Service", "edgefleet-" + role);
        }
        Map<String, Object> hpa = only(docs, "HorizontalPodAutoscaler", "edgefleet-inference");
        assertThat(hpa.get("apiVersion")).isEqualTo("autoscaling/v2");
        assertThat(map(map(hpa, "spec"), "scaleTargetRef")).containsEntry("kind", "Deployment").containsEntry("name", "edgefleet-inference");
        assertThat((Integer) map(hpa, "spec").get("minReplicas")).isGreaterThanOrEqualTo(2);
        Map<String, Object> metric = asMap(list(map(hpa, "spec"), "metrics").get(0));
        assertThat(map(metric, "resource")).containsEntry("name", "cpu");
        assertThat(map(map(metric, "resource"), "target")).containsEntry("type", "Utilization");
        networkPoliciesOpenOnlyServedPorts(docs);
    }

    @Test
    void queue_depth_overlay_scales_inference_on_the_queued_requests_metric() throws Exception {
        Map<String, Object> hpa = only(render("overlays/queue-depth-hpa"), "HorizontalPodAutoscaler", "edgefleet-inference");
        List<Object> metrics = list(map(hpa, "spec"), "metrics");
        assertThat(metrics).hasSize(1);
        Map<String, Object> pods = map(asMap(metrics.get(0)), "pods");
        assertThat(map(pods, "metric")).containsEntry("name", "edgefleet_cloud_inference_queued");
        assertThat(map(pods, "target")).containsEntry("type", "AverageValue");
    }

    @Test
    void gpu_overlay_requests_a_gpu_and_a_gpu_node_for_inference_only() throws Exception {
        List<Map<String, Object>> docs = render("overlays/gpu");
        Map<String, Object> pod = map(map(map(only(docs, "Deployment", "edgefleet-inference"), "spec"), "template"), "spec");
        Map<String, Object> c = containers(pod).get(0);
        assertThat(map(map(c, "resources"), "limits")).containsEntry("nvidia.com/gpu", "1");
        assertThat(map(pod, "nodeSelector")).containsKey("nvidia.com/gpu.present");
        assertThat(c.get("image")).isEqualTo("edgefleet-cloud-gpu:" + version);
        for (String other : List.of("edgefleet-ingest")) {
            Map<String, Object> o = containers(map(map(map(only(docs, "Deployment", other), "spec"), "template"), "spec")).get(0);
            assertThat(map(map(o, "resources"), "limits")).doesNotContainKey("nvidia.com/gpu");
        }
        networkPoliciesOpenOnlyServedPorts(docs);
    }

    @Test
    void single_overlay_runs_every_role_in_the_control_pod_and_nothing_else() throws Exception {
        List<Map<String, Object>> docs = render("overlays/single");
        assertThat(docs).noneMatch(d -> Set.of("Deployment", "HorizontalPodAutoscaler").contains(d.get("kind")));
        Map<String, Object> control = only(docs, "StatefulSet", "edgefleet-control");
        assertThat(env(containers(map(map(map(control, "spec"), "template"), "spec")).get(0))).containsEntry("CLOUD_ROLES", "all");
        networkPoliciesOpenOnlyServedPorts(docs);
    }

    @Test
    void replicas_overlay_runs_two_control_replicas_and_every_role_on_one_postgresql_database_with_shared_secrets() throws Exception {
        List<Map<String, Object>> docs = render("overlays/replicas");
        Map<String, Object> control = only(docs, "StatefulSet", "edgefleet-control");
        assertThat((Integer) map(control, "spec").get("replicas")).as("leader-elected replicas").isGreaterThanOrEqualTo(2);
        Map<String, Object> cloud = cloudYaml(docs);
        Map<String, Object> db = map(cloud, "database");
        assertThat((String) db.get("url")).startsWith("jdbc:postgresql://");
        assertThat(db).containsKey("password-file").doesNotContainKey("password");
        Map<String, Object> lease = map(db, "lease");
        assertThat((Integer) lease.get("retry-ms")).isLessThan((Integer) lease.get("renew-deadline-ms"));
        assertThat((Integer) lease.get("renew-deadline-ms")).isLessThan((Integer) lease.get("duration-ms"));
        String passwordDir = Path.of((String) db.get("password-file")).getParent().toString();
        String keyDir = (String) map(cloud, "signing").get("key-dir");
        for (Map<String, Object> w : workloads(docs)) {
            Map<String, Object> pod = map(map(map(w, "spec"), "template"), "spec");
            Map<String, Object> c = containers(pod).get(0);
            assertThat(mountedFrom(pod, c, passwordDir)).as(name(w) + ": the database password from its Secret").containsKey("secret");
            assertThat(mountedFrom(pod, c, keyDir)).as(name(w) + ": one signing key for every replica, from its Secret").containsKey("secret");
            assertThat(list(c, "env").stream().map(e -> asMap(e).get("name"))).as(name(w) + ": an instance name per pod").contains("CLOUD_INSTANCE");
        }
        for (Map<String, Object> p : docs.stream().filter(d -> "NetworkPolicy".equals(d.get("kind"))).toList()) {
            assertThat(list(map(p, "spec"), "egress").stream().flatMap(r -> list(asMap(r), "ports").stream()).map(x -> asMap(x).get("port")))
                    .as(name(p) + ": PostgreSQL").contains(5432);
        }
        networkPoliciesOpenOnlyServedPorts(docs);
    }

    @Test
    void a_broken_kustomization_fails_the_render() throws Exception {
        Path broken = Files.createTempDirectory("kustomize-broken");
        Files.writeString(broken.resolve("kustomization.yaml"), "resources:\n  - missing.yaml\n");
        Result r = kubectl("kustomize", broken.toString());
        assertThat(r.exit).isNotZero();
    }

    /** Every workload's pods are selected by a policy that admits exactly the container ports; MQTT egress where a role speaks MQTT. */
    private static void networkPoliciesOpenOnlyServedPorts(List<Map<String, Object>> docs) {
        List<Map<String, Object>> policies = docs.stream().filter(d -> "NetworkPolicy".equals(d.get("kind"))).toList();
        for (Map<String, Object> w : workloads(docs)) {
            Map<String, Object> template = map(map(w, "spec"), "template");
            Map<String, Object> labels = map(map(template, "metadata"), "labels");
            List<Map<String, Object>> mine = policies.stream()
                    .filter(p -> labels.entrySet().containsAll(map(map(map(p, "spec"), "podSelector"), "matchLabels").entrySet())).toList();
            assertThat(mine).as(name(w) + " is selected by one NetworkPolicy").hasSize(1);
            Map<String, Object> spec = map(mine.get(0), "spec");
            assertThat(list(spec, "policyTypes")).containsExactlyInAnyOrder("Ingress", "Egress");
            Set<Object> admitted = list(spec, "ingress").stream().flatMap(r -> list(asMap(r), "ports").stream())
                    .map(p -> asMap(p).get("port")).collect(Collectors.toSet());
            Set<Object> served = containers(map(template, "spec")).stream().flatMap(c -> list(c, "ports").stream())
                    .map(p -> asMap(p).get("containerPort")).collect(Collectors.toSet());
            assertThat(admitted).as(name(w) + ": ingress ports").isEqualTo(served);
            Set<Object> egress = list(spec, "egress").stream().flatMap(r -> list(asMap(r), "ports").stream())
                    .map(p -> asMap(p).get("port")).collect(Collectors.toSet());
            assertThat(egress).as(name(w) + ": DNS").contains(53);
            String roles = env(containers(map(template, "spec")).get(0)).get("CLOUD_ROLES");
            if (!"inference".equals(roles)) {
                assertThat(egress).as(name(w) + ": the MQTT broker").contains(1883, 8883);
            }
        }
    }

    private static List<Map<String, Object>> render(String kustomization) throws Exception {
        List<Map<String, Object>> cached = RENDERED.get(kustomization);
        if (cached == null) {
            cached = renderNow(kustomization);
            RENDERED.put(kustomization, cached);
        }
        return cached;
    }

    private static List<Map<String, Object>> renderNow(String kustomization) throws Exception {
        Result r = kubectl("kustomize", root.resolve("deploy/k8s").resolve(kustomization).toString());
        assertThat(r.exit).as("kubectl kustomize " + kustomization + ": " + r.err).isZero();
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object o : new Yaml().loadAll(r.out)) {
            if (o != null) {
                docs.add(asMap(o));
            }
        }
        assertThat(docs).as(kustomization).isNotEmpty().allSatisfy(d -> assertThat(d).containsKeys("apiVersion", "kind", "metadata"));
        return docs;
    }

    private static Map<String, Object> cloudYaml(List<Map<String, Object>> docs) {
        Map<String, Object> cm = docs.stream().filter(d -> "ConfigMap".equals(d.get("kind"))
                && name(d).startsWith("edgefleet-cloud-config")).findFirst().orElseThrow();
        String text = (String) map(cm, "data").get("cloud.yaml");
        for (Map<String, Object> w : workloads(docs)) {
            Map<String, Object> pod = map(map(map(w, "spec"), "template"), "spec");
            Map<String, Object> c = containers(pod).get(0);
            assertThat(env(c)).as(name(w)).containsEntry("EDGEFLEET_CONFIG", "/etc/edgefleet/cloud.yaml");
            assertThat(map(mountedFrom(pod, c, "/etc/edgefleet/cloud.yaml"), "configMap")).containsEntry("name", name(cm));
        }
        return map(asMap(new Yaml().load(text)), "cloud");
    }

    private static List<Map<String, Object>> workloads(List<Map<String, Object>> docs) {
        return docs.stream().filter(d -> Set.of("Deployment", "StatefulSet").contains(d.get("kind"))).toList();
    }

    private static Map<String, Object> only(List<Map<String, Object>> docs, String kind, String name) {
        List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(name(d))).toList();
        assertThat(found).as(kind + " " + name).hasSize(1);
        assertThat(map(found.get(0), "metadata")).containsEntry("namespace", "edgefleet");
        return found.get(0);
    }

    /** The volume mounted at exactly {@code path} in container {@code c}, or null. */
    private static Map<String, Object> mountedFrom(Map<String, Object> pod, Map<String, Object> c, String path) {
        for (Object o : list(c, "volumeMounts")) {
            Map<String, Object> m = asMap(o);
            if (path.equals(m.get("mountPath"))) {
                for (Object v : list(pod, "volumes")) {
                    if (m.get("name").equals(asMap(v).get("name"))) {
                        return asMap(v);
                    }
                }
                return Map.of("volumeClaimTemplate", m.get("name"));
            }
        }
        return null;
    }

    private static Map<String, String> env(Map<String, Object> c) {
        return list(c, "env").stream().map(KubernetesManifestsTest::asMap).filter(e -> e.containsKey("value"))
                .collect(Collectors.toMap(e -> (String) e.get("name"), e -> String.valueOf(e.get("value"))));
    }

    private static List<Map<String, Object>> containers(Map<String, Object> pod) {
        return list(pod, "containers").stream().map(KubernetesManifestsTest::asMap).toList();
    }

    private static String name(Map<String, Object> d) {
        return (String) map(d, "metadata").get("name");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> map(Map<String, Object> m, String key) {
        Object o = m.get(key);
        return o == null ? Map.of() : asMap(o);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> m, String key) {
        Object o = m.get(key);
        return o == null ? List.of() : (List<Object>) o;
    }

    private record Result(int exit, String out, String err) {
    }

    private static boolean kubectlPresent() {
        try {
            return kubectl("version", "--client").exit == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Result kubectl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("kubectl"));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile("kubectl", ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("kubectl " + String.join(" ", args) + " did not finish in 60 s");
        }
        String e = Files.readString(err);
        Files.delete(err);
        return new Result(p.exitValue(), out, e);
    }
}
