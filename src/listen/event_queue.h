/* The activity record's writer in `kunci serve` (core/events.h): installed as the events'
 * sink, it writes them in batches off the request threads. */
#ifndef KUNCI_LISTEN_EVENT_QUEUE_H
#define KUNCI_LISTEN_EVENT_QUEUE_H

struct event_queue;

/* Starts the writer thread and installs the sink (listen_thread_store_init first). */
int event_queue_start(struct event_queue **q_r);
/* Uninstalls the sink, writes what is queued (if the database is there), and frees. */
void event_queue_stop(struct event_queue *q);

#endif
