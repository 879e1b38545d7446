"""The digits page: input decoding, prediction, the model store, MNIST training (from the
page and the shipped model's recipe) and routes (``/digits``, ``/api/predict``,
``/api/models``, ``/ws/mnist``)."""
