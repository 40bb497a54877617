"""Telling clients the moment a status changes: the change (from the table's stream), publishing
it (EventBridge, and one FIFO message per matching subscription), and delivering it (signed
webhooks, retried in order)."""
