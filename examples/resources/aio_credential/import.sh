# A credential is imported by its ID, which starts with cred_. The secret is
# never returned by aiod, so it cannot be imported: the first apply after the
# import sends the configured secret (secret_wo or secret) once.
terraform import aio_credential.payments cred_01jdq3v8m5x2k7n4p6r9s0t1w2
