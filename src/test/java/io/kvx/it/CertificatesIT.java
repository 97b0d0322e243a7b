package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user certificate the way Kubernetes' docs issue one, with the real kubectl: a CertificateSigningRequest
 * for kubernetes.io/kube-apiserver-client, `kubectl certificate approve`, the signed certificate from
 * status.certificate, and then that certificate authenticating to the API server as its common name.
 * Also the API's validation, a signer refusing a usage (Failed) and a denial.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertificatesIT {

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static Path dir;
  private static KeyPair key;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-csr");
    dir = Files.createTempDirectory("kvx-it-csr-files");
    kvx = KvxProcess.start("csr", home, 17931, "up", "--cluster-port", "5931", "--secret", "it-csr",
        "--roles", "sequencer,apiserver,controller-manager");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    key = g.generateKeyPair();
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static String pem(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    }
    return w.toString();
  }

  /** What `openssl req -new -subj /CN=.../O=...` makes, base64 for spec.request. */
  private static String request(String subject) throws Exception {
    var csr = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), key.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
    return Base64.getEncoder().encodeToString(pem(csr).getBytes(StandardCharsets.UTF_8));
  }

  private static Path csr(String name, String request, String signer, String usages) throws Exception {
    Path p = dir.resolve(name + ".yaml");
    Files.writeString(p, "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: "
        + name + "}\nspec:\n  request: " + request + "\n  signerName: " + signer + "\n  expirationSeconds: 86400\n"
        + "  usages: [" + usages + "]\n");
    return p;
  }

  @Test
  @Order(1)
  void anApprovedClientRequestIsSignedAndItsCertificateAuthenticates() throws Exception {
    kubectl.ok("apply", "-f", csr("jane", request("CN=jane,O=dev"), "kubernetes.io/kube-apiserver-client",
        "client auth").toString());
    String row = kubectl.ok("get", "csr", "jane", "--no-headers");
    assertTrue(row.matches("jane\\s+\\S+\\s+kubernetes.io/kube-apiserver-client\\s+kvx-admin\\s+24h\\s+Pending\\s*"), row);
    assertTrue(kubectl.ok("certificate", "approve", "jane").contains("approved"));
    kubectl.await(Duration.ofSeconds(20), out -> out.contains("Approved,Issued"), "get", "csr", "jane", "--no-headers");

    String b64 = kubectl.ok("get", "csr", "jane", "-o", "jsonpath={.status.certificate}").trim();
    byte[] certPem = Base64.getDecoder().decode(b64);
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(certPem));
    String subject = cert.getSubjectX500Principal().getName();
    assertTrue(subject.contains("CN=jane") && subject.contains("O=dev"), subject);
    assertTrue(cert.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "client auth usage");
    long days = Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()).toHours();
    assertTrue(days <= 24 + 1, "the requested 24h, not a year: " + cert.getNotAfter());

    // kubectl config set-credentials with the key and the issued certificate, as the docs do
    Path crt = Files.write(dir.resolve("jane.crt"), certPem);
    Path keyFile = Files.writeString(dir.resolve("jane.key"), pem(new JcaPKCS8Generator(key.getPrivate(), null)));
    Path config = Files.copy(kvx.kubeconfig(), dir.resolve("kubeconfig"));
    Kubectl jane = new Kubectl(config);
    jane.ok("config", "set-credentials", "jane", "--client-key=" + keyFile, "--client-certificate=" + crt,
        "--embed-certs=true");
    String cluster = jane.ok("config", "view", "-o", "jsonpath={.clusters[0].name}").trim();
    jane.ok("config", "set-context", "jane", "--cluster=" + cluster, "--user=jane");
    String whoami = jane.ok("--context", "jane", "auth", "whoami");
    assertTrue(whoami.matches("(?s).*Username\\s+jane\\s.*") && whoami.contains("[dev system:authenticated]"), whoami);
    // the certificate's user is under RBAC like any other: nothing until a binding names the user or a group
    Kubectl.Result denied = jane.run("--context", "jane", "get", "pods");
    assertTrue(denied.out().contains("pods is forbidden: User \"jane\" cannot list resource \"pods\""), denied.out());
    kubectl.ok("create", "rolebinding", "dev-view", "--clusterrole=view", "--group=dev");
    jane.await(Duration.ofSeconds(10), out -> out.contains("No resources found") || out.isEmpty(), "--context", "jane",
        "get", "pods");
  }

  @Test
  @Order(2)
  void badRequestsAreRefusedAndSignersEnforceTheirUsages() throws Exception {
    Kubectl.Result bad = kubectl.run("create", "-f", csr("bad", "aGVsbG8=", "kubernetes.io/kube-apiserver-client",
        "client auth, bogus").toString());
    assertNotEquals(0, bad.code());
    assertTrue(bad.out().contains("spec.request: Invalid value") && bad.out().contains("PEM block type must be "
        + "CERTIFICATE REQUEST") && bad.out().contains("spec.usages[1]: Unsupported value: \"bogus\""), bad.out());

    kubectl.ok("create", "-f", csr("srv", request("CN=srv"), "kubernetes.io/kube-apiserver-client", "server auth").toString());
    kubectl.ok("certificate", "approve", "srv");
    String failed = kubectl.await(Duration.ofSeconds(20), out -> out.contains("Failed"), "get", "csr", "srv", "-o", "json");
    JsonObject status = new JsonObject(failed).getJsonObject("status");
    assertTrue(status.getString("certificate") == null, "no certificate for a refused usage");
    assertTrue(status.encode().contains("invalid usage for kubernetes.io/kube-apiserver-client: server auth"), status.encode());

    kubectl.ok("create", "-f", csr("den", request("CN=den"), "example.com/custom", "client auth").toString());
    assertTrue(kubectl.ok("certificate", "deny", "den").contains("denied"));
    Kubectl.Result again = kubectl.run("certificate", "approve", "den");
    assertTrue(again.out().contains("already Denied"), again.out());
    assertTrue(kubectl.ok("get", "csr", "den", "--no-headers").contains("Denied"));
  }
}
