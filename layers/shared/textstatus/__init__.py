"""textstatus: the normalized delivery status of text messages, whichever provider carried them."""
