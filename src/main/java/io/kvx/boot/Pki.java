package io.kvx.boot;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/** The cluster CA and serving certificates (ECDSA P-256), as PEM text. Blocking. */
public final class Pki {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Pki() {
  }

  /** A PEM certificate and its PEM private key. */
  public record Pem(String certificate, String privateKey) {}

  public static Pem newCa(String commonName) throws Exception {
    KeyPair kp = keyPair();
    X500Name name = new X500Name("CN=" + commonName);
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(3600)),
        Date.from(now.plus(Duration.ofDays(3650))), name, kp.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
        | KeyUsage.digitalSignature));
    return new Pem(pem(sign(b, kp)), pkcs8(kp.getPrivate()));
  }

  /** A serving certificate for the API signed by the CA, valid for the given DNS names and IPs. */
  public static Pem newServerCert(Pem ca, List<String> hosts) throws Exception {
    PrivateKey caKey = readPrivateKey(ca.privateKey());
    X509Certificate caCert = readCert(ca.certificate());
    KeyPair kp = keyPair();
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(),
        Date.from(now.minusSeconds(3600)), Date.from(now.plus(Duration.ofDays(365))),
        new X500Name("CN=kvx-apiserver"), kp.getPublic());
    List<GeneralName> sans = new ArrayList<>();
    for (String h : hosts) {
      boolean ip = h.matches("[0-9.]+") || h.contains(":");
      sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, h));
    }
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    return new Pem(pem(cert), pkcs8(kp.getPrivate()));
  }

  /**
   * Signs a certificate request with the CA, as kube-controller-manager's CSR signers do: the request's
   * subject and key, valid from 5 minutes ago (clock skew, as kube backdates) for {@code validity}, the
   * key usages and extended key usages named by the request's usages, not a CA, with the subject
   * alternative names the request asks for.
   */
  public static String signRequest(Pem ca, org.bouncycastle.pkcs.PKCS10CertificationRequest request, List<String> usages,
                                   Duration validity) throws Exception {
    PrivateKey caKey = readPrivateKey(ca.privateKey());
    X509Certificate caCert = readCert(ca.certificate());
    Instant now = Instant.now();
    Instant notAfter = now.plus(validity);
    if (notAfter.isAfter(caCert.getNotAfter().toInstant())) notAfter = caCert.getNotAfter().toInstant();
    var b = new org.bouncycastle.cert.X509v3CertificateBuilder(
        X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()), serial(),
        Date.from(now.minusSeconds(300)), Date.from(notAfter), request.getSubject(), request.getSubjectPublicKeyInfo());
    int keyUsage = 0;
    List<KeyPurposeId> purposes = new ArrayList<>();
    for (String u : usages) {
      switch (u) {
        case "digital signature", "signing" -> keyUsage |= KeyUsage.digitalSignature;
        case "key encipherment" -> keyUsage |= KeyUsage.keyEncipherment;
        case "content commitment" -> keyUsage |= KeyUsage.nonRepudiation;
        case "key agreement" -> keyUsage |= KeyUsage.keyAgreement;
        case "data encipherment" -> keyUsage |= KeyUsage.dataEncipherment;
        case "client auth" -> purposes.add(KeyPurposeId.id_kp_clientAuth);
        case "server auth" -> purposes.add(KeyPurposeId.id_kp_serverAuth);
        case "code signing" -> purposes.add(KeyPurposeId.id_kp_codeSigning);
        case "email protection", "s/mime" -> purposes.add(KeyPurposeId.id_kp_emailProtection);
        case "timestamping" -> purposes.add(KeyPurposeId.id_kp_timeStamping);
        case "ocsp signing" -> purposes.add(KeyPurposeId.id_kp_OCSPSigning);
        default -> { }
      }
    }
    if (keyUsage != 0) b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
    if (!purposes.isEmpty()) {
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(new KeyPurposeId[0])));
    }
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    for (var attr : request.getAttributes(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      var requested = org.bouncycastle.asn1.x509.Extensions.getInstance(attr.getAttrValues().getObjectAt(0));
      var sans = requested.getExtension(Extension.subjectAlternativeName);
      if (sans != null) b.addExtension(Extension.subjectAlternativeName, false, sans.getParsedValue());
    }
    String algorithm = caKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    return pem(new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(caKey))));
  }

  public static List<String> defaultHosts(String bindHost) {
    List<String> hosts = new ArrayList<>(List.of("localhost", "127.0.0.1", "kubernetes", "kubernetes.default",
        "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"));
    try {
      hosts.add(InetAddress.getLocalHost().getHostName());
    } catch (Exception ignored) {
      // no resolvable host name: loopback names only
    }
    if (!hosts.contains(bindHost) && !bindHost.equals("0.0.0.0")) hosts.add(bindHost);
    return hosts;
  }

  /** A key pair for signing ServiceAccount tokens (ES256): public key PEM as "certificate", PKCS#8 private. */
  public static Pem newSigningKey() throws Exception {
    KeyPair kp = keyPair();
    return new Pem(pem(kp.getPublic()), pkcs8(kp.getPrivate()));
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM);
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair kp) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  private static String pem(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    }
    return w.toString();
  }

  private static String pkcs8(PrivateKey key) throws Exception {
    return pem(new JcaPKCS8Generator(key, null));
  }

  private static PrivateKey readPrivateKey(String pem) throws Exception {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      return new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) p.readObject());
    }
  }

  private static X509Certificate readCert(String pem) throws Exception {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      return new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) p.readObject());
    }
  }
}
