Console.WriteLine("placeholder until the provider is merged");
