"""One mail login through nginx (IMAP, or POP3 when asked): prints OK or the refusal."""
import imaplib
import poplib
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if len(sys.argv) > 4 and sys.argv[4] == "pop3":
    c = poplib.POP3("127.0.0.1", port, timeout=15)
    try:
        c.user(user)
        c.pass_(password)
        c.quit()
        print("OK")
    except poplib.error_proto as e:
        print(e.args[0].decode(errors="replace"))
    sys.exit(0)
c = imaplib.IMAP4("127.0.0.1", port, timeout=15)
try:
    c.login(user, password)
    c.select("INBOX")
    c.logout()
    print("OK")
except imaplib.IMAP4.error as e:
    print(str(e))
