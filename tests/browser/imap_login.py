"""One IMAP login through nginx: prints OK or the server's refusal."""
import imaplib
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4("127.0.0.1", port, timeout=15)
try:
    c.login(user, password)
    c.select("INBOX")
    c.logout()
    print("OK")
except imaplib.IMAP4.error as e:
    print(str(e))
